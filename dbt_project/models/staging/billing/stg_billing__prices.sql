with

source as (
    select * from {{ source('billing', 'prices') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

renamed as (
    select
        source.id as price_id,
        source.product as product_id,
        upper(source.currency) as currency_code,
        source.unit_amount as unit_amount_minor,
        {{ minor_to_major('source.unit_amount', 'exponents.minor_unit_exponent') }} as unit_amount,
        source.type as price_type,
        source.payload -> 'recurring' ->> 'interval' as recurring_interval,
        cast(source.payload -> 'recurring' ->> 'interval_count' as integer) as recurring_interval_count,
        source.payload -> 'recurring' ->> 'usage_type' as recurring_usage_type,
        source.created as created_at,
        coalesce(source.deleted, false) as is_deleted
    from source
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(source.currency) = exponents.currency_code
)

select * from renamed
