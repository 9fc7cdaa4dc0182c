-- One row per billing invoice whose postings q2c holds back (quarantine): its customer has no ERP customer, or one
-- of its lines sells an active product with no ERP item and revenue accounts (PRODUCT_UNMAPPED). The invoice's
-- payments and credit notes are held with it. Held postings never reach the ERP and raise no posting exception.
with

invoices as (
    select * from {{ ref('invoices') }}
),

unmapped_lines as (
    select
        sold_lines.invoice_id,
        min(sold_lines.product_id) as unmapped_product_id
    from {{ ref('invoice_lines') }} as sold_lines
    inner join {{ ref('products') }} as products on sold_lines.product_id = products.product_id
    where products.is_active and not products.is_mapped
    group by sold_lines.invoice_id
)

select
    invoices.invoice_id,
    case
        when invoices.erp_customer_id is null then 'customer_without_erp_customer'
        else 'product_unmapped'
    end as hold_reason,
    unmapped_lines.unmapped_product_id
from invoices
left join unmapped_lines on invoices.invoice_id = unmapped_lines.invoice_id
where invoices.erp_customer_id is null or unmapped_lines.invoice_id is not null
