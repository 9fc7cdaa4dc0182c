-- One row per line of each credit memo posting in publish.erp_credit_memos (invoice posting mode only).
-- Incremental: only the lines of the documents whose body erp_credit_memos built again (macros/incremental.sql).
{{ publish_lines_config('erp_credit_memos') }}

with

erp_credit_memos as (
    select * from {{ ref('erp_credit_memos') }}
),

documents as (
    -- the documents whose lines the model does not hold at their fingerprint
    {{ unbuilt_inputs('erp_credit_memos') }}
)

select
    cast(line_postings.external_id as varchar) as external_id,
    cast(line_postings.line_number as integer) as line_number,
    cast(line_postings.credit_note_id as varchar) as credit_note_id,
    cast(line_postings.credit_note_line_id as varchar) as credit_note_line_id,
    cast(line_postings.invoice_line_id as varchar) as invoice_line_id,
    cast(line_postings.line_description as varchar) as line_description,
    cast(line_postings.product_id as varchar) as product_id,
    cast(line_postings.erp_item_id as varchar) as erp_item_id,
    cast(line_postings.quantity as decimal(38, 4)) as quantity,
    cast(line_postings.rate as decimal(38, 4)) as rate,
    cast(line_postings.amount as decimal(38, 4)) as amount,
    cast(line_postings.tax_rate_percent as decimal(9, 4)) as tax_rate_percent,
    cast(line_postings.erp_tax_code as varchar) as erp_tax_code,
    cast(line_postings.tax_amount as decimal(38, 4)) as tax_amount,
    cast(line_postings.department_id as varchar) as department_id,
    documents.input_fingerprint
from {{ ref('int_publish__credit_memo_line_postings') }} as line_postings
inner join documents on line_postings.external_id = documents.external_id
where '{{ var("q2c_posting_mode") }}' = 'invoice'
