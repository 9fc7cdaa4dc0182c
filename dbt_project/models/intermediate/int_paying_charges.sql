-- One row per billing invoice paid through a payment intent: its paying charge (the succeeded charge of the payment
-- intent named by its invoice_payment) and whether the ERP has a customer payment with that charge's billing key.
with

payments as (
    select * from {{ ref('payments') }}
),

erp_payments as (
    select
        billing_key,
        count(*) as erp_records
    from {{ ref('erp_transactions') }}
    where record_type = 'customerpayment' and billing_key is not null
    group by billing_key
)

select
    payments.invoice_id,
    payments.charge_id,
    payments.amount,
    payments.created_at,
    coalesce(erp_payments.erp_records, 0) as erp_records,
    erp_payments.billing_key is null as is_missing_in_erp
from payments
left join erp_payments on payments.charge_id = erp_payments.billing_key
qualify
    row_number() over (partition by payments.invoice_id order by payments.created_at desc, payments.charge_id asc) = 1
