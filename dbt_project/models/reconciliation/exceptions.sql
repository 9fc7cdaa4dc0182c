-- The exception queue: one row per exception ever raised, open or resolved, keyed by a stable id (hash of type and
-- subject). Incremental: each run compares what the rules detect now with the queue so far —
-- still detected → open, last_seen_at = now (first_seen_at kept; a resolved one reopens);
-- no longer detected → resolved at now; already resolved and still gone → unchanged.
{{
    config(
        materialized='incremental',
        unique_key='exception_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

detected as (
    select * from {{ ref('int_exceptions_valued') }}
),

{% if is_incremental() %}
    queue as (
        select * from {{ this }}
    ),
{% else %}
    queue as (
    -- the first build starts an empty queue with the same columns
        select * from detected
        where false
    ),
{% endif %}

merged as (
    select
        coalesce(detected.exception_id, queue.exception_id) as exception_id,
        coalesce(detected.exception_type, queue.exception_type) as exception_type,
        coalesce(detected.subject_key, queue.subject_key) as subject_key,
        coalesce(detected.subsidiary, queue.subsidiary) as subsidiary,
        coalesce(detected.currency, queue.currency) as currency,
        coalesce(detected.amount_at_risk, queue.amount_at_risk) as amount_at_risk,
        coalesce(detected.amount_at_risk_reporting, queue.amount_at_risk_reporting) as amount_at_risk_reporting,
        coalesce(detected.severity, queue.severity) as severity,
        coalesce(detected.owner_domain, queue.owner_domain) as owner_domain,
        {% if is_incremental() %}
            coalesce(queue.first_seen_at, {{ q2c_now() }}) as first_seen_at,
            case when detected.exception_id is not null then {{ q2c_now() }} else queue.last_seen_at end
                as last_seen_at,
            case
                when detected.exception_id is not null then null
                when queue.status = 'resolved' then queue.resolved_at
                else {{ q2c_now() }}
            end as resolved_at,
        {% else %}
            {{ q2c_now() }} as first_seen_at,
            {{ q2c_now() }} as last_seen_at,
            cast(null as timestamptz) as resolved_at,
        {% endif %}
        case when detected.exception_id is not null then 'open' else 'resolved' end as status,
        coalesce(detected.detail, queue.detail) as detail,
        coalesce(detected.suggested_action, queue.suggested_action) as suggested_action
    from detected
    full outer join queue on detected.exception_id = queue.exception_id
)

select
    cast(exception_id as varchar) as exception_id,
    cast(exception_type as varchar) as exception_type,
    cast(subject_key as varchar) as subject_key,
    cast(subsidiary as varchar) as subsidiary,
    cast(currency as varchar) as currency,
    cast(amount_at_risk as decimal(38, 4)) as amount_at_risk,
    cast(amount_at_risk_reporting as decimal(38, 2)) as amount_at_risk_reporting,
    cast(severity as varchar) as severity,
    cast(owner_domain as varchar) as owner_domain,
    cast(first_seen_at as timestamptz) as first_seen_at,
    cast(last_seen_at as timestamptz) as last_seen_at,
    cast(resolved_at as timestamptz) as resolved_at,
    cast(status as varchar) as status,
    cast(detail as varchar) as detail,
    cast(suggested_action as varchar) as suggested_action
from merged
