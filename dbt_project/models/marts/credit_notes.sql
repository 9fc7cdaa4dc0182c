-- One row per billing credit note, with its invoice's entity, posting date (UTC date of effective_at) and period.
-- Refunds are reflected through their credit note.
with

notes as (
    select * from {{ ref('stg_billing__credit_notes') }}
    where not is_deleted
),

invoices as (
    select * from {{ ref('invoices') }}
)

select
    notes.*,
    invoices.erp_subsidiary_id,
    cast(timezone('UTC', notes.effective_at) as date) as posting_date,
    period.period_id as posting_period_id,
    coalesce(period.is_closed, false) as is_posting_period_closed
from notes
left join invoices on notes.invoice_id = invoices.invoice_id
{{ join_posting_period('period', 'cast(timezone(\'UTC\', notes.effective_at) as date)', 'invoices.erp_subsidiary_id') }}
