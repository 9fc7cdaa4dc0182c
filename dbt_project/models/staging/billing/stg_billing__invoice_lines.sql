-- A table, not a view: the models and tests reading invoice lines would parse the payloads again.
-- Incremental: a build parses only lines new or changed since the last (macros/incremental.sql).
{{ staging_incremental_config('invoice_line_id', 'invoice_lines') }}

{%- set paths = [
    '$.description',
    '$.pricing.price_details.product',
    '$.pricing.price_details.price',
    '$.parent.type',
    '$.parent.subscription_item_details.proration',
    '$.parent.invoice_item_details.proration',
    '$.period.start',
    '$.period.end',
] %}

with

source as (
    {{ unbuilt_rows(source('billing', 'invoice_lines'), 'id', 'invoice_line_id') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

parsed as (
    -- each payload parsed once: its fields in one list, and the tax and taxable amounts of its taxes
    select
        source.*,
        {{ json_fields('source.payload', paths) }} as payload_fields,
        list_sum({{ json_bigints('source.payload', '$.taxes[*].amount') }}) as tax_minor,
        list_sum({{ json_bigints('source.payload', '$.taxes[*].taxable_amount') }}) as taxable_minor
    from source
),

renamed as (
    select
        parsed.id as invoice_line_id,
        parsed.invoice as invoice_id,
        {{ json_field('parsed.payload_fields', paths, '$.description') }} as line_description,
        {{ json_field('parsed.payload_fields', paths, '$.pricing.price_details.product') }} as product_id,
        {{ json_field('parsed.payload_fields', paths, '$.pricing.price_details.price') }} as price_id,
        {{ json_field('parsed.payload_fields', paths, '$.parent.type') }} as line_source,
        coalesce(
            cast(
                {{ json_field('parsed.payload_fields', paths, '$.parent.subscription_item_details.proration') }}
                as boolean
            ),
            cast(
                {{ json_field('parsed.payload_fields', paths, '$.parent.invoice_item_details.proration') }} as boolean
            ),
            false
        ) as is_proration,
        upper(parsed.currency) as currency_code,
        parsed.quantity,
        parsed.amount as amount_minor,
        coalesce(parsed.tax_minor, 0) as tax_minor,
        {{ minor_to_major('parsed.amount', 'exponents.minor_unit_exponent') }} as amount,
        {{ minor_to_major('coalesce(parsed.tax_minor, 0)', 'exponents.minor_unit_exponent') }} as tax_amount,
        -- the rate as Stripe applied it, to 3 decimals (8.875%): tax ÷ taxable amount
        case
            when coalesce(parsed.taxable_minor, 0) = 0 then 0
            else cast(round(cast(parsed.tax_minor as decimal(38, 6)) * 100 / parsed.taxable_minor, 4) as decimal(9, 4))
        end as tax_rate_percent,
        {{ unix_to_utc(json_field('parsed.payload_fields', paths, '$.period.start')) }} as service_period_start_at,
        {{ unix_to_utc(json_field('parsed.payload_fields', paths, '$.period.end')) }} as service_period_end_at,
        coalesce(parsed.deleted, false) as is_deleted,
        parsed._q2c_state_version,
        parsed._q2c_load_seq
    from parsed
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(parsed.currency) = exponents.currency_code
)

select * from renamed
