-- One row per billing invoice line with its ERP mapping and its service period (the days it pays for).
with

lines as (
    select * from {{ ref('stg_billing__invoice_lines') }}
    where not is_deleted
),

products as (
    select * from {{ ref('products') }}
)

select
    lines.invoice_line_id,
    lines.invoice_id,
    row_number() over (partition by lines.invoice_id order by lines.invoice_line_id) as line_number,
    lines.line_description,
    lines.product_id,
    lines.price_id,
    lines.line_source,
    lines.is_proration,
    lines.currency_code,
    lines.quantity,
    lines.amount,
    lines.tax_amount,
    lines.tax_rate_percent,
    lines.service_period_start_at,
    lines.service_period_end_at,
    -- service days run from the start's UTC date to the end's, end exclusive; a boundary at 23:59:59 (an anchor on
    -- the last second of a month) counts as the midnight after it, so that period belongs to the next month
    cast(timezone('UTC', lines.service_period_start_at + interval 1 second) as date) as service_start_date,
    cast(timezone('UTC', lines.service_period_end_at + interval 1 second) as date) - 1 as service_end_date,
    products.erp_item_id,
    products.revenue_account_id,
    products.deferred_revenue_account_id,
    products.department_id,
    products.revenue_treatment,
    coalesce(products.is_mapped, false) as is_product_mapped
from lines
left join products on lines.product_id = products.product_id
