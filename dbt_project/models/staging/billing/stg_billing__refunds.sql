with

source as (
    select * from {{ source('billing', 'refunds') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

renamed as (
    select
        source.id as refund_id,
        source.charge as charge_id,
        source.payment_intent as payment_intent_id,
        source.status as refund_status,
        upper(source.currency) as currency_code,
        {{ minor_to_major('source.amount', 'exponents.minor_unit_exponent') }} as amount,
        source.created as created_at,
        coalesce(source.deleted, false) as is_deleted
    from source
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(source.currency) = exponents.currency_code
)

select * from renamed
