{#- Many fields of one JSON document, parsed once. Each `payload ->> 'field'` parses the whole document again, so
    a staging model reading ten fields of a large payload parsed it ten times (most of its time). json_fields()
    extracts them all in one call, a list in the order of `paths` (DuckDB's json_extract_string over a list of
    paths: each item exactly what `->>` with that path gives); json_field() picks one of them by its path. -#}
{% macro json_fields(document, paths) -%}
    json_extract_string({{ document }}, [{% for path in paths %}'{{ path }}'{{ ", " if not loop.last }}{% endfor %}])
{%- endmacro %}

{% macro json_field(fields, paths, path) -%}
    {{ fields }}[{{ paths.index(path) + 1 }}]
{%- endmacro %}

{#- The integers at `path` in every item of a JSON array (e.g. '$.total_taxes[*].amount'), as a list: what
    `cast(item ->> 'amount' as bigint)` gives for each item of json_each(), without a join per item. -#}
{% macro json_bigints(document, path) -%}
    cast(json_extract_string({{ document }}, '{{ path }}') as bigint [])
{%- endmacro %}
