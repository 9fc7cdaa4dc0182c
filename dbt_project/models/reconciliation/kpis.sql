-- Daily reconciliation KPIs, one row per (day of now, KPI, exception type, age bucket), long format so new
-- breakdowns need no new columns. Incremental: a run replaces its own day's rows; earlier days accumulate.
-- Latencies look at the 30 days before now; 'all' marks a row that is not broken down.
{{
    config(
        materialized='incremental',
        unique_key='kpi_date',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

invoices as (
    select * from {{ ref('invoices') }}
),

holds as (
    select * from {{ ref('int_invoice_posting_holds') }}
),

erp_keys as (
    select distinct
        record_type,
        billing_key
    from {{ ref('erp_transactions') }}
    where billing_key is not null
),

postable_invoices as (
    -- invoices q2c posts: finalized, live, not held back
    select invoices.*
    from invoices
    left join holds on invoices.invoice_id = holds.invoice_id
    where invoices.invoice_status in ('open', 'paid', 'uncollectible') and holds.invoice_id is null
),

settled_postings as (
    select
        'invoice' as posting_type,
        postable_invoices.invoice_id as billing_id,
        erp_keys.billing_key is not null as is_in_erp
    from postable_invoices
    left join erp_keys on erp_keys.record_type = 'invoice' and postable_invoices.invoice_id = erp_keys.billing_key
    where postable_invoices.finalized_at <= {{ settled_before() }}

    union all

    select
        'payment' as posting_type,
        charges.charge_id as billing_id,
        not charges.is_missing_in_erp as is_in_erp
    from {{ ref('int_paying_charges') }} as charges
    inner join postable_invoices on charges.invoice_id = postable_invoices.invoice_id
    where charges.created_at <= {{ settled_before() }}

    union all

    select
        'credit_note' as posting_type,
        notes.credit_note_id as billing_id,
        erp_keys.billing_key is not null as is_in_erp
    from {{ ref('credit_notes') }} as notes
    inner join postable_invoices on notes.invoice_id = postable_invoices.invoice_id
    left join erp_keys on erp_keys.record_type = 'creditmemo' and notes.credit_note_id = erp_keys.billing_key
    where notes.credit_note_status = 'issued' and notes.effective_at <= {{ settled_before() }}
),

invoice_latency as (
    select epoch(erp_created_at - finalized_at) / 3600.0 as hours
    from {{ ref('invoice_matches') }}
    where
        invoice_id is not null and erp_transaction_id is not null and is_primary_match
        and finalized_at > {{ q2c_now() }} - interval 30 day and finalized_at <= {{ q2c_now() }}
),

payment_lag as (
    select epoch(erp_created_at - charged_at) / 3600.0 as hours
    from {{ ref('payment_matches') }}
    where
        charge_id is not null and erp_transaction_id is not null and is_primary_match
        and charged_at > {{ q2c_now() }} - interval 30 day and charged_at <= {{ q2c_now() }}
),

queue as (
    select
        *,
        case
            when {{ q2c_now() }} - first_seen_at < interval 3 day then '0-2d'
            when {{ q2c_now() }} - first_seen_at < interval 8 day then '3-7d'
            when {{ q2c_now() }} - first_seen_at < interval 31 day then '8-30d'
            else '31d+'
        end as age_bucket
    from {{ ref('exceptions') }}
),

measures as (
    select
        'posting_completeness' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(
            case when count(*) = 0 then null else round(count(*) filter (where is_in_erp) * 1.0 / count(*), 4) end
            as decimal(38, 4)
        ) as kpi_value,
        'share' as unit
    from settled_postings

    union all

    select
        'settled_postings' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(count(*) as decimal(38, 4)) as kpi_value,
        'postings' as unit
    from settled_postings

    union all

    select
        'settled_postings_in_erp' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(count(*) filter (where is_in_erp) as decimal(38, 4)) as kpi_value,
        'postings' as unit
    from settled_postings

    union all

    select
        'invoice_propagation_latency_median' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(round(median(hours), 4) as decimal(38, 4)) as kpi_value,
        'hours' as unit
    from invoice_latency

    union all

    select
        'invoice_propagation_latency_p95' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(round(quantile_cont(hours, 0.95), 4) as decimal(38, 4)) as kpi_value,
        'hours' as unit
    from invoice_latency

    union all

    select
        'payment_sync_lag_median' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(round(median(hours), 4) as decimal(38, 4)) as kpi_value,
        'hours' as unit
    from payment_lag

    union all

    select
        'payment_sync_lag_p95' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(round(quantile_cont(hours, 0.95), 4) as decimal(38, 4)) as kpi_value,
        'hours' as unit
    from payment_lag

    union all

    select
        'open_exceptions' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(count(*) as decimal(38, 4)) as kpi_value,
        'exceptions' as unit
    from queue
    where status = 'open'

    union all

    select
        'open_exceptions' as kpi_name,
        exception_type,
        age_bucket,
        cast(count(*) as decimal(38, 4)) as kpi_value,
        'exceptions' as unit
    from queue
    where status = 'open'
    group by exception_type, age_bucket

    union all

    -- q2c never closes an exception by hand: every resolution is the cause disappearing (a sync catching up,
    -- a person fixing the source), so resolved ÷ all is the auto-resolved share
    select
        'auto_resolved_share' as kpi_name,
        'all' as exception_type,
        'all' as age_bucket,
        cast(
            case
                when count(*) = 0 then null
                else round(count(*) filter (where status = 'resolved') * 1.0 / count(*), 4)
            end as decimal(38, 4)
        ) as kpi_value,
        'share' as unit
    from queue
)

select
    cast(timezone('UTC', {{ q2c_now() }}) as date) as kpi_date,
    cast(kpi_name as varchar) as kpi_name,
    cast(exception_type as varchar) as exception_type,
    cast(age_bucket as varchar) as age_bucket,
    kpi_value,
    cast(unit as varchar) as unit,
    {{ q2c_now() }} as measured_at
from measures
