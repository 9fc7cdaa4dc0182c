{#- Join a (period, subsidiary) table as `alias` for a posting dated `posting_date` in `subsidiary_id`:
    `int_erp_period_status`, or `int_publish__posting_periods` (which adds the next open period). -#}
{% macro join_posting_period(alias, posting_date, subsidiary_id, periods='int_erp_period_status') -%}
    left join {{ ref(periods) }} as {{ alias }}
        on {{ subsidiary_id }} = {{ alias }}.subsidiary_id
        and {{ posting_date }} between {{ alias }}.start_date and {{ alias }}.end_date
{%- endmacro %}

{#- The reconciliation's reference time and the grace period's edge, from vars (UTC). -#}
{% macro q2c_now() -%}
    cast('{{ var("q2c_now") }}' as timestamptz)
{%- endmacro %}

{% macro settled_before() -%}
    ({{ q2c_now() }} - to_days(cast({{ var("q2c_grace_period_days") }} as integer)))
{%- endmacro %}
