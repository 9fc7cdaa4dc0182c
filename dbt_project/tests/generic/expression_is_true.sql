{#- Row-level arithmetic check, e.g. `total = subtotal + tax_total`: returns the rows where it is false. -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% if where_clause %}and ({{ where_clause }}){% endif %}
{% endtest %}
