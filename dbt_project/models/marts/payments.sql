-- One row per succeeded charge that paid a billing invoice (the invoice's "paying charge": the succeeded charge of
-- the payment intent named by its invoice_payment). Failed charges are never postings.
with

links as (
    select * from {{ ref('stg_billing__invoice_payments') }}
    where not is_deleted
),

charges as (
    select * from {{ ref('stg_billing__charges') }}
    where not is_deleted and charge_status = 'succeeded'
),

invoices as (
    select * from {{ ref('invoices') }}
)

select
    charges.charge_id,
    links.invoice_id,
    links.invoice_payment_id,
    charges.payment_intent_id,
    invoices.customer_id,
    invoices.erp_subsidiary_id,
    charges.currency_code,
    charges.amount,
    charges.amount_refunded,
    charges.payment_method_type,
    charges.created_at,
    cast(timezone('UTC', charges.created_at) as date) as posting_date,
    period.period_id as posting_period_id,
    coalesce(period.is_closed, false) as is_posting_period_closed
from links
inner join charges on links.payment_intent_id = charges.payment_intent_id
inner join invoices on links.invoice_id = invoices.invoice_id
{{ join_posting_period('period', 'cast(timezone(\'UTC\', charges.created_at) as date)', 'invoices.erp_subsidiary_id') }}
qualify row_number() over (partition by charges.charge_id order by links.created_at desc, links.invoice_id asc) = 1
