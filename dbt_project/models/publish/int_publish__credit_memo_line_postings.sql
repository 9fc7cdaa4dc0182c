{{ config(schema='intermediate') }}
-- One row per line of a credit memo posting: the credited invoice line's item and accounts, the credited amount,
-- and its share of the credit note's tax (pro rata by amount, the rounding remainder on the last line, so the
-- lines' tax sums exactly to the note's).
with

notes as (
    select * from {{ ref('int_publish__credit_memo_postings') }}
),

note_lines as (
    select * from {{ ref('stg_billing__credit_note_lines') }}
    where not is_deleted
),

invoice_lines as (
    select * from {{ ref('int_publish__invoice_line_postings') }}
),

amounts as (
    select
        notes.external_id,
        row_number() over (
            partition by notes.external_id order by note_lines.credit_note_line_id
        ) as line_number,
        count(*) over (partition by notes.external_id) as line_count,
        notes.credit_note_id,
        notes.subtotal as note_subtotal,
        notes.tax_total as note_tax_total,
        notes.currency_exponent,
        note_lines.credit_note_line_id,
        note_lines.invoice_line_id,
        note_lines.line_description,
        cast(coalesce(note_lines.quantity, 1) as decimal(38, 4)) as quantity,
        {{ minor_to_major('note_lines.amount_minor', 'notes.currency_exponent') }} as amount,
        invoice_lines.product_id,
        invoice_lines.erp_item_id,
        invoice_lines.department_id,
        invoice_lines.tax_rate_percent,
        invoice_lines.erp_tax_code,
        invoice_lines.revenue_account_id,
        invoice_lines.deferred_revenue_account_id,
        invoice_lines.revenue_treatment
    from notes
    inner join note_lines on notes.credit_note_id = note_lines.credit_note_id
    left join invoice_lines on note_lines.invoice_line_id = invoice_lines.invoice_line_id
),

shared as (
    select
        *,
        case
            when note_subtotal = 0 then 0
            else round(
                {{ major_to_minor('note_tax_total', 'currency_exponent') }} * {{ major_to_minor('amount', 'currency_exponent') }}
                / {{ major_to_minor('note_subtotal', 'currency_exponent') }}
            )
        end as tax_share_minor
    from amounts
)

select
    external_id,
    line_number,
    credit_note_id,
    credit_note_line_id,
    invoice_line_id,
    line_description,
    product_id,
    erp_item_id,
    quantity,
    cast(case when quantity = 0 then amount else round(amount / quantity, 4) end as decimal(38, 4)) as rate,
    amount,
    tax_rate_percent,
    erp_tax_code,
    case
        when line_number = line_count
            then
                note_tax_total
                - coalesce(sum({{ minor_to_major('tax_share_minor', 'currency_exponent') }}) over (
                    partition by external_id order by line_number rows between unbounded preceding and 1 preceding
                ), 0)
        else {{ minor_to_major('tax_share_minor', 'currency_exponent') }}
    end as tax_amount,
    department_id,
    revenue_account_id,
    deferred_revenue_account_id,
    revenue_treatment
from shared
