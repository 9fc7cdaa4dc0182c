-- One row per issued billing credit note q2c posts or keeps in sync as an ERP credit memo (`bill-cn_…`), created
-- from its invoice. Invoice posting mode only: in summary mode the daily journals carry credit notes and this
-- model has no rows.
{{ publish_incremental_config('int_publish__credit_memo_postings') }}

with

lines as (
    select * from {{ ref('int_publish__credit_memo_line_postings') }}
),

{{ fingerprinted_documents('int_publish__credit_memo_postings') }},

memos as (
    {{ unbuilt_inputs('postings') }}
),

line_bodies as (
    select
        external_id,
        count(*) as line_count,
        sum(amount) as lines_amount,
        sum(tax_amount) as lines_tax_amount,
        {{ erp_sales_lines_json('credit_note_line_id', "'Credit: ' || coalesce(line_description, credit_note_line_id)") }} as items
    from lines
    where external_id in (select memos.external_id from memos)
    group by external_id
),

bodies as (
    select
        memos.*,
        coalesce(line_bodies.line_count, 0) as line_count,
        coalesce(line_bodies.lines_amount, 0) as lines_amount,
        coalesce(line_bodies.lines_tax_amount, 0) as lines_tax_amount,
        cast({{ json_without_nulls("json_object(
            'externalId', memos.external_id,
            'entity', " ~ erp_ref('memos.erp_customer_id', 'memos.customer_external_id') ~ ",
            'subsidiary', " ~ erp_ref_id('memos.erp_subsidiary_id') ~ ",
            'currency', " ~ erp_ref_id('memos.currency_id') ~ ",
            'tranDate', strftime(memos.tran_date, '%Y-%m-%d'),
            'postingPeriod', " ~ erp_ref_id('memos.posting_period_id') ~ ",
            'memo', 'Stripe credit note ' || coalesce(memos.credit_note_number, memos.credit_note_id),
            'custbody_q2c_billing_id', memos.credit_note_id,
            'account', " ~ erp_ref_id('memos.receivable_account_id') ~ ",
            'createdFrom', " ~ erp_ref('memos.invoice_erp_transaction_id', 'memos.invoice_external_id') ~ ",
            'item', json_object('items', coalesce(line_bodies.items, json('[]')))
        )") }} as varchar) as payload
    from memos
    left join line_bodies on memos.external_id = line_bodies.external_id
)

select
    cast(external_id as varchar) as external_id,
    cast('creditMemo' as varchar) as record_type,
    cast(credit_note_id as varchar) as subject_key,
    cast(credit_note_id as varchar) as credit_note_id,
    cast(credit_note_number as varchar) as credit_note_number,
    cast(invoice_id as varchar) as invoice_id,
    cast(invoice_external_id as varchar) as invoice_external_id,
    cast(customer_id as varchar) as customer_id,
    cast(erp_transaction_id as varchar) as erp_transaction_id,
    cast(is_in_erp as boolean) as is_in_erp,
    cast(subsidiary_code as varchar) as subsidiary_code,
    cast(erp_subsidiary_id as varchar) as erp_subsidiary_id,
    cast(currency_code as varchar) as currency_code,
    cast(posting_date as date) as posting_date,
    cast(tran_date as date) as tran_date,
    cast(posting_period_id as varchar) as posting_period_id,
    cast(subtotal as decimal(38, 4)) as subtotal,
    cast(tax_total as decimal(38, 4)) as tax_total,
    cast(total as decimal(38, 4)) as total,
    cast(line_count as integer) as line_count,
    cast(lines_amount as decimal(38, 4)) as lines_amount,
    cast(lines_tax_amount as decimal(38, 4)) as lines_tax_amount,
    cast(validation_status as varchar) as validation_status,
    cast(reason_code as varchar) as reason_code,
    cast(quarantine_reason as varchar) as quarantine_reason,
    cast(depends_on as varchar[]) as depends_on,
    payload,
    cast({{ payload_hash('payload') }} as varchar) as payload_hash,
    input_fingerprint
from bodies
where '{{ var("q2c_posting_mode") }}' = 'invoice'
