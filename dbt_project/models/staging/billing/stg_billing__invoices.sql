-- A table, not a view: the payloads are large, and the models and tests reading invoices would parse them again.
-- Incremental: a build parses only invoices new or changed since the last (macros/incremental.sql).
{{ staging_incremental_config('invoice_id', 'invoices') }}

{%- set paths = [
    '$.number',
    '$.parent.subscription_details.subscription',
    '$.billing_reason',
    '$.collection_method',
    '$.account_country',
    '$.status_transitions.finalized_at',
    '$.status_transitions.paid_at',
    '$.status_transitions.voided_at',
    '$.status_transitions.marked_uncollectible_at',
    '$.period_start',
    '$.period_end',
] %}

with

source as (
    {{ unbuilt_rows(source('billing', 'invoices'), 'id', 'invoice_id') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

parsed as (
    -- each payload parsed once: its fields in one list; Stripe states the tax as a list, whose sum is the tax total
    select
        source.*,
        {{ json_fields('source.payload', paths) }} as payload_fields,
        coalesce(list_sum({{ json_bigints('source.payload', '$.total_taxes[*].amount') }}), 0) as tax_minor
    from source
),

renamed as (
    select
        parsed.id as invoice_id,
        {{ json_field('parsed.payload_fields', paths, '$.number') }} as invoice_number,
        parsed.customer as customer_id,
        coalesce(
            parsed.subscription,
            {{ json_field('parsed.payload_fields', paths, '$.parent.subscription_details.subscription') }}
        ) as subscription_id,
        parsed.status as invoice_status,
        {{ json_field('parsed.payload_fields', paths, '$.billing_reason') }} as billing_reason,
        {{ json_field('parsed.payload_fields', paths, '$.collection_method') }} as collection_method,
        upper({{ json_field('parsed.payload_fields', paths, '$.account_country') }}) as billing_entity_country,
        upper(parsed.currency) as currency_code,
        exponents.minor_unit_exponent as currency_exponent,
        parsed.subtotal as subtotal_minor,
        parsed.tax_minor,
        parsed.total as total_minor,
        {{ minor_to_major('parsed.subtotal', 'exponents.minor_unit_exponent') }} as subtotal,
        {{ minor_to_major('parsed.tax_minor', 'exponents.minor_unit_exponent') }} as tax_total,
        {{ minor_to_major('parsed.total', 'exponents.minor_unit_exponent') }} as total,
        {{ minor_to_major('parsed.amount_paid', 'exponents.minor_unit_exponent') }} as amount_paid,
        {{ minor_to_major('parsed.amount_remaining', 'exponents.minor_unit_exponent') }} as amount_remaining,
        {{ unix_to_utc(json_field('parsed.payload_fields', paths, '$.status_transitions.finalized_at')) }}
            as finalized_at,
        {{ unix_to_utc(json_field('parsed.payload_fields', paths, '$.status_transitions.paid_at')) }} as paid_at,
        {{ unix_to_utc(json_field('parsed.payload_fields', paths, '$.status_transitions.voided_at')) }} as voided_at,
        {{ unix_to_utc(json_field('parsed.payload_fields', paths, '$.status_transitions.marked_uncollectible_at')) }}
            as marked_uncollectible_at,
        parsed.effective_at,
        {{ unix_to_utc(json_field('parsed.payload_fields', paths, '$.period_start')) }} as period_start_at,
        {{ unix_to_utc(json_field('parsed.payload_fields', paths, '$.period_end')) }} as period_end_at,
        parsed.created as created_at,
        coalesce(parsed.deleted, false) as is_deleted,
        parsed._q2c_state_version,
        parsed._q2c_load_seq
    from parsed
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(parsed.currency) = exponents.currency_code
)

select * from renamed
