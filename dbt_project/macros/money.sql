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

{#- How many billing intervals make a year (annual contract value of a recurring price). -#}
{% macro periods_per_year(interval) -%}
    (case {{ interval }} when 'month' then 12 when 'year' then 1 when 'week' then 52 when 'day' then 365 end)
{%- endmacro %}
