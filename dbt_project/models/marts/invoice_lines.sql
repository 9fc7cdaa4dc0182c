{{ keyed_incremental_config('invoice_id', "{{ delete_without_live_row('stg_billing__invoice_lines', 'invoice_line_id') }}") }}
-- One row per billing invoice line with its ERP mapping and its service period (the days it pays for).
-- Incremental: a line's row depends on its staged row (at its `_q2c_state_version`), on its product's mapping, and
-- on the other lines of its invoice (`line_number`). A build writes again every line of the invoices where a line is
-- new or at a new state (deleted included: found among the latest loads only, by `_q2c_load_seq` as staging finds its
-- raw rows, macros/incremental.sql), or where a product's mapping is not the one held; the other invoices' lines are
-- kept. Lines no longer staged go after the build.
with

staged as (
    select * from {{ ref('stg_billing__invoice_lines') }}
),

products as (
    select * from {{ ref('products') }}
),

{% if is_incremental() %}
    unbuilt as (
        -- the staged lines not held at their state (new, changed or deleted), from the latest loads only
        {{ unbuilt_rows(ref('stg_billing__invoice_lines'), 'invoice_line_id', 'invoice_line_id') }}
    ),

    rewritten as (
        -- the invoices of those lines as they are now…
        select unbuilt.invoice_id from unbuilt
        union
        -- …and as they were (a line moved to another invoice leaves its old one)
        select held.invoice_id
        from {{ this }} as held
        inner join unbuilt on held.invoice_line_id = unbuilt.invoice_line_id
        union
        -- the invoices of lines whose product's mapping is not the one held
        select held.invoice_id
        from {{ this }} as held
        left join products on held.product_id = products.product_id
        where
            row(
                held.erp_item_id,
                held.revenue_account_id,
                held.deferred_revenue_account_id,
                held.department_id,
                held.revenue_treatment,
                held.is_product_mapped
            ) is distinct from row(
                products.erp_item_id,
                products.revenue_account_id,
                products.deferred_revenue_account_id,
                products.department_id,
                products.revenue_treatment,
                coalesce(products.is_mapped, false)
            )
    ),

    lines as (
        select staged.* from staged
        where not staged.is_deleted and staged.invoice_id in (select rewritten.invoice_id from rewritten)
    )
{% else %}
    lines as (
        select * from staged
        where not is_deleted
    )
{% endif %}

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
    coalesce(products.is_mapped, false) as is_product_mapped,
    lines._q2c_state_version,
    lines._q2c_load_seq
from lines
left join products on lines.product_id = products.product_id
