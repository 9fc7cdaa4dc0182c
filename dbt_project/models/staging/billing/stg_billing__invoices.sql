with

source as (
    select * from {{ source('billing', 'invoices') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

taxes as (
    -- Stripe states an invoice's tax as a list; its sum is the tax total
    select
        source.id as invoice_id,
        coalesce(sum(cast(tax.value ->> 'amount' as bigint)), 0) as tax_minor
    from source, json_each(source.payload -> 'total_taxes') as tax
    group by source.id
),

renamed as (
    select
        source.id as invoice_id,
        source.payload ->> 'number' as invoice_number,
        source.customer as customer_id,
        coalesce(source.subscription, source.payload -> 'parent' -> 'subscription_details' ->> 'subscription')
            as subscription_id,
        source.status as invoice_status,
        source.payload ->> 'billing_reason' as billing_reason,
        source.payload ->> 'collection_method' as collection_method,
        upper(source.payload ->> 'account_country') as billing_entity_country,
        upper(source.currency) as currency_code,
        exponents.minor_unit_exponent as currency_exponent,
        source.subtotal as subtotal_minor,
        coalesce(taxes.tax_minor, 0) as tax_minor,
        source.total as total_minor,
        {{ minor_to_major('source.subtotal', 'exponents.minor_unit_exponent') }} as subtotal,
        {{ minor_to_major('coalesce(taxes.tax_minor, 0)', 'exponents.minor_unit_exponent') }} as tax_total,
        {{ minor_to_major('source.total', 'exponents.minor_unit_exponent') }} as total,
        {{ minor_to_major('source.amount_paid', 'exponents.minor_unit_exponent') }} as amount_paid,
        {{ minor_to_major('source.amount_remaining', 'exponents.minor_unit_exponent') }} as amount_remaining,
        {{ unix_to_utc("source.payload -> 'status_transitions' ->> 'finalized_at'") }} as finalized_at,
        {{ unix_to_utc("source.payload -> 'status_transitions' ->> 'paid_at'") }} as paid_at,
        {{ unix_to_utc("source.payload -> 'status_transitions' ->> 'voided_at'") }} as voided_at,
        {{ unix_to_utc("source.payload -> 'status_transitions' ->> 'marked_uncollectible_at'") }}
            as marked_uncollectible_at,
        source.effective_at,
        {{ unix_to_utc("source.payload ->> 'period_start'") }} as period_start_at,
        {{ unix_to_utc("source.payload ->> 'period_end'") }} as period_end_at,
        source.created as created_at,
        coalesce(source.deleted, false) as is_deleted
    from source
    left join taxes on source.id = taxes.invoice_id
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(source.currency) = exponents.currency_code
)

select * from renamed
