{{ config(schema='intermediate') }}
-- One row per paying charge of a postable invoice (billing's succeeded charge behind its invoice_payment), with
-- the gate's verdict: quarantined with its invoice, or for its own period. Mode-independent.
with

payments as (
    select * from {{ ref('payments') }}
),

invoices as (
    select * from {{ ref('int_publish__invoice_postings') }}
),

erp_payments as (
    select * from {{ ref('erp_transactions') }}
    where record_type = 'customerpayment' and is_primary_for_billing_key
),

joined as (
    select
        payments.charge_id,
        'bill-' || payments.charge_id as external_id,
        payments.invoice_id,
        payments.payment_method_type,
        invoices.external_id as invoice_external_id,
        invoices.erp_transaction_id as invoice_erp_transaction_id,
        invoices.validation_status as invoice_status,
        invoices.quarantine_reason as invoice_reason,
        invoices.customer_id,
        invoices.customer_external_id,
        invoices.erp_customer_id,
        invoices.subsidiary_code,
        invoices.erp_subsidiary_id,
        invoices.currency_id,
        payments.currency_code,
        payments.posting_date,
        payments.amount,
        erp_payments.transaction_id as erp_transaction_id,
        erp_payments.transaction_id is not null as is_in_erp,
        period.period_id as own_period_id,
        period.period_name as own_period_name,
        {{ effective_posting_date('period', 'payments.posting_date') }} as moved_posting_date,
        {{ effective_posting_period('period') }} as moved_period_id,
        {{ stays_in_closed_period('period') }} as is_in_closed_period
    from payments
    inner join invoices on payments.invoice_id = invoices.invoice_id
    left join erp_payments on payments.charge_id = erp_payments.billing_key
    {{ join_publish_period('period', 'payments.posting_date', 'invoices.erp_subsidiary_id') }}
),

gated as (
    select
        *,
        case
            when invoice_status != 'ready' then 'INVOICE_QUARANTINED'
            {{ period_gate_reason_codes() }}
        end as reason_code,
        case
            when invoice_status != 'ready'
                then 'invoice ' || invoice_id || ' is quarantined: ' || invoice_reason
            {{ period_gate_reasons() }}
        end as quarantine_reason
    from joined
)

select
    charge_id,
    external_id,
    invoice_id,
    invoice_external_id,
    invoice_erp_transaction_id,
    payment_method_type,
    customer_id,
    customer_external_id,
    erp_customer_id,
    erp_transaction_id,
    is_in_erp,
    subsidiary_code,
    erp_subsidiary_id,
    currency_code,
    currency_id,
    posting_date,
    {{ gated_tran_date() }} as tran_date,
    {{ gated_posting_period_id() }} as posting_period_id,
    amount,
    case when reason_code is null then 'ready' else 'quarantined' end as validation_status,
    reason_code,
    quarantine_reason,
    case when invoice_erp_transaction_id is null then [invoice_external_id] else [] end
    || case when erp_customer_id is null then [customer_external_id] else [] end as depends_on
from gated
