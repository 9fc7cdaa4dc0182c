-- One row per billing invoice (drafts included, flagged), with its customer's entity, its posting date (the UTC
-- date it was finalized), the ERP period that date falls in, and why its posting is held back, if it is.
with

invoices as (
    select * exclude (_q2c_state_version, _q2c_load_seq) from {{ ref('stg_billing__invoices') }}
    where not is_deleted
),

customers as (
    select * from {{ ref('customers') }}
),

unmapped_lines as (
    select
        invoice_lines.invoice_id,
        min(products.unmapped_reason) as unmapped_reason,
        min(invoice_lines.product_id) as unmapped_product_id
    from {{ ref('stg_billing__invoice_lines') }} as invoice_lines
    inner join {{ ref('products') }} as products on invoice_lines.product_id = products.product_id
    where not invoice_lines.is_deleted and not products.is_mapped
    group by invoice_lines.invoice_id
),

dated as (
    select
        invoices.*,
        cast(timezone('UTC', invoices.finalized_at) as date) as posting_date,
        customers.subsidiary_code,
        customers.erp_subsidiary_id,
        customers.erp_customer_id,
        customers.erp_link_status,
        customers.is_erp_customer_inactive,
        unmapped_lines.unmapped_product_id,
        unmapped_lines.unmapped_reason
    from invoices
    left join customers on invoices.customer_id = customers.customer_id
    left join unmapped_lines on invoices.invoice_id = unmapped_lines.invoice_id
)

select
    dated.*,
    period.period_id as posting_period_id,
    period.period_name as posting_period_name,
    coalesce(period.is_closed, false) as is_posting_period_closed,
    dated.invoice_status not in ('draft', 'void') as is_postable,
    dated.erp_link_status = 'missing' as needs_erp_customer,
    dated.unmapped_reason as hold_reason
from dated
{{ join_posting_period('period', 'dated.posting_date', 'dated.erp_subsidiary_id') }}
