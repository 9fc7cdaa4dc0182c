{{ config(schema='intermediate') }}
-- One row per line of a postable invoice, mapped to what the ERP line needs: item, department, revenue and
-- deferred-revenue accounts, tax code. Proration lines keep their sign (a credit for unused time is negative).
with

invoices as (
    select * from {{ ref('int_publish__invoice_postings') }}
),

lines as (
    select * from {{ ref('invoice_lines') }}
),

subsidiaries as (
    select * from {{ ref('stg_erp__subsidiaries') }}
    where not is_deleted
),

tax_codes as (
    select * from {{ ref('tax_code_mappings') }}
)

select
    invoices.external_id,
    lines.line_number,
    lines.invoice_id,
    lines.invoice_line_id,
    lines.line_description,
    lines.product_id,
    lines.erp_item_id,
    lines.department_id,
    lines.revenue_account_id,
    lines.deferred_revenue_account_id,
    lines.revenue_treatment,
    lines.is_proration,
    cast(lines.quantity as decimal(38, 4)) as quantity,
    -- informational (NetSuite keeps the amount we send): exact for whole-unit prices, 4 places for prorations
    cast(
        case
            when coalesce(lines.quantity, 0) = 0 then lines.amount
            else round(lines.amount / lines.quantity, 4)
        end as decimal(38, 4)
    ) as rate,
    lines.amount,
    lines.tax_rate_percent,
    tax_codes.erp_tax_code,
    lines.tax_amount,
    lines.service_start_date,
    lines.service_end_date,
    invoices.currency_code,
    invoices.currency_exponent,
    invoices.erp_subsidiary_id
from lines
inner join invoices on lines.invoice_id = invoices.invoice_id
left join subsidiaries on invoices.erp_subsidiary_id = subsidiaries.subsidiary_id
left join tax_codes
    on
        subsidiaries.country_code = tax_codes.erp_subsidiary_country
        and lines.tax_rate_percent = tax_codes.tax_rate_percent
