with

source as (
    select * from {{ source('billing', 'invoice_lines') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

taxes as (
    select
        source.id as invoice_line_id,
        sum(cast(tax.value ->> 'amount' as bigint)) as tax_minor,
        sum(cast(tax.value ->> 'taxable_amount' as bigint)) as taxable_minor
    from source, json_each(source.payload -> 'taxes') as tax
    group by source.id
),

renamed as (
    select
        source.id as invoice_line_id,
        source.invoice as invoice_id,
        source.payload ->> 'description' as line_description,
        source.payload -> 'pricing' -> 'price_details' ->> 'product' as product_id,
        source.payload -> 'pricing' -> 'price_details' ->> 'price' as price_id,
        source.payload -> 'parent' ->> 'type' as line_source,
        coalesce(
            cast(source.payload -> 'parent' -> 'subscription_item_details' ->> 'proration' as boolean),
            cast(source.payload -> 'parent' -> 'invoice_item_details' ->> 'proration' as boolean),
            false
        ) as is_proration,
        upper(source.currency) as currency_code,
        source.quantity,
        source.amount as amount_minor,
        coalesce(taxes.tax_minor, 0) as tax_minor,
        {{ minor_to_major('source.amount', 'exponents.minor_unit_exponent') }} as amount,
        {{ minor_to_major('coalesce(taxes.tax_minor, 0)', 'exponents.minor_unit_exponent') }} as tax_amount,
        -- the rate as Stripe applied it, to 3 decimals (8.875%): tax ÷ taxable amount
        case
            when coalesce(taxes.taxable_minor, 0) = 0 then 0
            else cast(round(cast(taxes.tax_minor as decimal(38, 6)) * 100 / taxes.taxable_minor, 4) as decimal(9, 4))
        end as tax_rate_percent,
        {{ unix_to_utc("source.payload -> 'period' ->> 'start'") }} as service_period_start_at,
        {{ unix_to_utc("source.payload -> 'period' ->> 'end'") }} as service_period_end_at,
        coalesce(source.deleted, false) as is_deleted
    from source
    left join taxes on source.id = taxes.invoice_line_id
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(source.currency) = exponents.currency_code
)

select * from renamed
