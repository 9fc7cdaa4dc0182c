-- One row per issued billing credit note with whether the ERP has a credit memo with its billing key, and the
-- state of its invoice's posting. A credit note is checked only when its invoice is in the ERP, live and not held.
with

notes as (
    select * from {{ ref('credit_notes') }}
    where credit_note_status = 'issued'
),

invoices as (
    select * from {{ ref('invoice_matches') }}
    where invoice_id is not null and is_primary_match
),

erp_memos as (
    select
        billing_key,
        min(transaction_id) as erp_transaction_id,
        max(total) as erp_total,
        count(*) as erp_records
    from {{ ref('erp_transactions') }}
    where record_type = 'creditmemo' and billing_key is not null
    group by billing_key
)

select
    notes.credit_note_id,
    notes.invoice_id,
    invoices.customer_id,
    invoices.subsidiary_code,
    notes.currency_code,
    notes.total,
    notes.effective_at,
    notes.posting_date,
    notes.is_posting_period_closed,
    erp_memos.erp_transaction_id,
    erp_memos.erp_total,
    coalesce(erp_memos.erp_records, 0) as erp_records,
    case
        when not coalesce(
            invoices.erp_transaction_id is not null and invoices.invoice_status not in ('draft', 'void')
            and invoices.hold_reason is null,
            false
        ) then 'invoice_not_in_erp'
        when erp_memos.billing_key is not null then 'matched'
        when invoices.is_erp_customer_inactive then 'refused_customer_inactive'
        when notes.effective_at > {{ settled_before() }} then 'pending'
        when notes.is_posting_period_closed then 'period_closed'
        else 'missing_in_erp'
    end as match_status
from notes
left join invoices on notes.invoice_id = invoices.invoice_id
left join erp_memos on notes.credit_note_id = erp_memos.billing_key
