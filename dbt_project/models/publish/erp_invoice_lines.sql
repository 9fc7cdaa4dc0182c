-- One row per line of each invoice posting in publish.erp_invoices (invoice posting mode; none in summary mode).
select
    cast(external_id as varchar) as external_id,
    cast(line_number as integer) as line_number,
    cast(invoice_id as varchar) as invoice_id,
    cast(invoice_line_id as varchar) as invoice_line_id,
    cast(line_description as varchar) as line_description,
    cast(product_id as varchar) as product_id,
    cast(erp_item_id as varchar) as erp_item_id,
    cast(quantity as decimal(38, 4)) as quantity,
    cast(rate as decimal(38, 4)) as rate,
    cast(amount as decimal(38, 4)) as amount,
    cast(tax_rate_percent as decimal(9, 4)) as tax_rate_percent,
    cast(erp_tax_code as varchar) as erp_tax_code,
    cast(tax_amount as decimal(38, 4)) as tax_amount,
    cast(department_id as varchar) as department_id,
    cast(is_proration as boolean) as is_proration,
    cast(service_start_date as date) as service_start_date,
    cast(service_end_date as date) as service_end_date
from {{ ref('int_publish__invoice_line_postings') }}
where '{{ var("q2c_posting_mode") }}' = 'invoice'
