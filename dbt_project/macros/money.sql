{#- Integer minor units → exact major-unit DECIMAL, by the currency's ISO 4217 exponent (joined from the seed).
    Multiplies by an exact decimal factor: dividing DECIMALs would give a DOUBLE. -#}
{% macro minor_to_major(minor_amount, exponent) -%}
    cast(
        cast({{ minor_amount }} as decimal(38, 0))
        * (case {{ exponent }} when 0 then 1.0 when 1 then 0.1 when 2 then 0.01 when 3 then 0.001 when 4 then 0.0001 end)
        as decimal(38, 4)
    )
{%- endmacro %}

{#- Unix seconds (billing's timestamps) → UTC TIMESTAMPTZ. -#}
{% macro unix_to_utc(seconds) -%}
    to_timestamp(cast({{ seconds }} as bigint))
{%- endmacro %}

{#- One recurring item's annual value: quantity × unit amount × intervals per year ÷ interval_count, exact.
    A DECIMAL divided by anything in DuckDB is a DOUBLE, so only every-N-intervals prices (N > 1) are divided,
    rounded to 4 places once; the common case stays an exact DECIMAL product. -#}
{% macro annual_item_value(quantity, unit_amount, interval, interval_count) -%}
    cast(
        case
            when coalesce({{ interval_count }}, 1) = 1
                then cast({{ quantity }} * {{ unit_amount }} as decimal(38, 4)) * {{ periods_per_year(interval) }}
            else round(
                cast({{ quantity }} * {{ unit_amount }} as decimal(38, 4)) * {{ periods_per_year(interval) }}
                / {{ interval_count }}, 4
            )
        end
        as decimal(38, 4)
    )
{%- endmacro %}

{% macro periods_per_year(interval) -%}
    (case {{ interval }} when 'month' then 12 when 'year' then 1 when 'week' then 52 when 'day' then 365 end)
{%- endmacro %}
