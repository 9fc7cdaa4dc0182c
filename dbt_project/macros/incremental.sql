{#- Incremental staging: a staging model that parses large payloads keeps the rows it built, and each build parses
    only the raw rows it does not hold at their stored state. Raw billing rows carry `_q2c_state_version`, which
    the ingest raises whenever it stores a newer state of the object and never otherwise: a row whose key and
    version the model already holds is unchanged. The model keeps `_q2c_state_version` for the comparison.

    Such a model is configured with staging_incremental_config(): delete+insert on its key (a changed object's
    row is replaced), and `meta.rebuild_on_change`, by which `q2c build` drops its table when the SQL that built
    it changed (pipelines/build/incremental.py), so rows built by two versions of a model never mix. -#}
{% macro staging_incremental_config(key, raw_table, raw_key='id') -%}
    {{ config(
        materialized='incremental',
        unique_key=key,
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'rebuild_on_change': true},
        post_hook="{{ delete_unsourced('" ~ raw_table ~ "', '" ~ raw_key ~ "', '" ~ key ~ "') }}",
    ) }}
{%- endmacro %}

{#- The raw rows the model has not built at their current version (all of them in a full build). -#}
{% macro unbuilt_rows(relation, raw_key, built_key) -%}
    select raw_rows.*
    from {{ relation }} as raw_rows
    {%- if is_incremental() %}
        where not exists (
            select 1 from {{ this }} as built
            where
                built.{{ built_key }} = raw_rows.{{ raw_key }}
                and built._q2c_state_version = raw_rows._q2c_state_version
        )
    {%- endif %}
{%- endmacro %}

{#- After the build: rows whose raw row is gone (raw was reloaded from scratch) go too. Billing never deletes a
    raw row (a deleted object stays, marked deleted), so this removes nothing in a normal run. -#}
{% macro delete_unsourced(raw_table, raw_key, built_key) -%}
    delete from {{ this }} as built
    where not exists (
        select 1 from {{ source('billing', raw_table) }} as raw_rows
        where raw_rows.{{ raw_key }} = built.{{ built_key }}
    )
{%- endmacro %}
