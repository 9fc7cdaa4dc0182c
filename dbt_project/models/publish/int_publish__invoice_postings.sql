{{ config(schema='intermediate') }}
-- One row per postable billing invoice (finalized, not draft or void) with the validation gate's verdict,
-- whatever q2c_posting_mode is: erp_invoices shows it in invoice mode, the daily journals use it in summary mode.
-- An invoice the ERP already has (its primary match by billing key) is not re-dated or period-checked.
with

invoices as (
    select * exclude (_q2c_load_seq) from {{ ref('invoices') }}
    where is_postable
),

erp_invoices as (
    select * from {{ ref('erp_transactions') }}
    where record_type = 'invoice' and is_primary_for_billing_key
),

created_customers as (
    select * from {{ ref('erp_customers') }}
),

currencies as (
    select * from {{ ref('stg_erp__currencies') }}
    where not is_deleted
),

accounts as (
    select * from {{ ref('stg_erp__accounts') }}
    where not is_deleted
),

joined as (
    select
        invoices.*,
        'bill-' || invoices.invoice_id as external_id,
        'bill-' || invoices.customer_id as customer_external_id,
        erp_invoices.transaction_id as erp_transaction_id,
        erp_invoices.transaction_id is not null as is_in_erp,
        currencies.currency_id,
        receivable.account_id as receivable_account_id,
        created_customers.validation_status as created_customer_status,
        created_customers.quarantine_reason as created_customer_reason,
        period.period_id as own_period_id,
        period.period_name as own_period_name,
        {{ effective_posting_date('period', 'invoices.posting_date') }} as moved_posting_date,
        {{ effective_posting_period('period') }} as moved_period_id,
        {{ stays_in_closed_period('period') }} as is_in_closed_period
    from invoices
    left join erp_invoices on invoices.invoice_id = erp_invoices.billing_key
    left join currencies on invoices.currency_code = currencies.currency_code
    left join accounts as receivable on receivable.account_number = {{ house_account_number('accounts_receivable') }}
    left join created_customers on invoices.customer_id = created_customers.customer_id
    {{ join_publish_period('period', 'invoices.posting_date', 'invoices.erp_subsidiary_id') }}
),

gated as (
    select
        *,
        case
            when unmapped_product_id is not null then 'PRODUCT_UNMAPPED'
            when erp_subsidiary_id is null or currency_id is null or receivable_account_id is null
                then 'REFERENCE_MISSING'
            when erp_customer_id is null and coalesce(created_customer_status, 'missing') != 'ready'
                then 'REFERENCE_MISSING'
            {{ period_gate_reason_codes() }}
        end as reason_code,
        case
            when unmapped_product_id is not null then unmapped_reason
            when erp_subsidiary_id is null
                then 'no ERP subsidiary for customer ' || customer_id
            when currency_id is null then 'currency ' || currency_code || ' is not an ERP currency'
            when receivable_account_id is null
                then 'no A/R account ' || {{ house_account_number('accounts_receivable') }} || ' in the ERP'
            when erp_customer_id is null and coalesce(created_customer_status, 'missing') != 'ready'
                then
                    'ERP customer ' || customer_external_id || ' is missing and q2c cannot create it: '
                    || coalesce(created_customer_reason, 'no billing customer')
            {{ period_gate_reasons() }}
        end as quarantine_reason,
        coalesce(unmapped_product_id, invoice_id) as reason_subject_key
    from joined
)

select
    invoice_id,
    external_id,
    invoice_number,
    customer_id,
    customer_external_id,
    erp_customer_id,
    erp_transaction_id,
    is_in_erp,
    subsidiary_code,
    erp_subsidiary_id,
    currency_code,
    currency_id,
    currency_exponent,
    receivable_account_id,
    posting_date,
    {{ gated_tran_date() }} as tran_date,
    {{ gated_posting_period_id() }} as posting_period_id,
    subtotal,
    tax_total,
    total,
    case when reason_code is null then 'ready' else 'quarantined' end as validation_status,
    reason_code,
    quarantine_reason,
    reason_subject_key,
    -- the ERP customer must exist before the invoice when q2c creates it in the same push
    case when erp_customer_id is null then [customer_external_id] else [] end as depends_on
from gated
