with

source as (
    select * from {{ source('billing', 'credit_notes') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

renamed as (
    select
        source.id as credit_note_id,
        source.payload ->> 'number' as credit_note_number,
        source.invoice as invoice_id,
        source.customer as customer_id,
        source.status as credit_note_status,
        source.type as credit_note_type,
        source.payload ->> 'reason' as reason,
        source.payload -> 'refunds' -> 0 ->> 'refund' as refund_id,
        upper(source.currency) as currency_code,
        {{ minor_to_major("cast(source.payload ->> 'subtotal' as bigint)", 'exponents.minor_unit_exponent') }}
            as subtotal,
        {{ minor_to_major('source.total', 'exponents.minor_unit_exponent') }} as total,
        {{ minor_to_major('source.total', 'exponents.minor_unit_exponent') }}
        - {{ minor_to_major("cast(source.payload ->> 'subtotal' as bigint)", 'exponents.minor_unit_exponent') }}
            as tax_total,
        {{ unix_to_utc("source.payload ->> 'effective_at'") }} as effective_at,
        source.created as created_at,
        coalesce(source.deleted, false) as is_deleted
    from source
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(source.currency) = exponents.currency_code
)

select * from renamed
