{{ config(schema='intermediate') }}
-- The monthly revenue-recognition journal lines before netting: per subsidiary, currency, month, account and
-- department, Dr deferred revenue / Cr revenue for what the month earned. Months run from the subsidiary's first
-- open period (earlier months were closed by the legacy process; var q2c_revrec_start_month overrides) through the
-- month containing q2c_now. Amounts are signed: positive is a debit.
with

schedule as (
    select * from {{ ref('int_publish__revenue_schedule') }}
),

first_open as (
    select
        subsidiary_id,
        {% if var('q2c_revrec_start_month', none) %}
            cast('{{ var("q2c_revrec_start_month") }}-01' as date)
        {% else %}
            min(start_date)
        {% endif %} as first_month
    from {{ ref('int_publish__posting_periods') }}
    where not is_closed
    group by subsidiary_id
),

in_window as (
    select schedule.*
    from schedule
    inner join first_open on schedule.erp_subsidiary_id = first_open.subsidiary_id
    where
        schedule.revenue_month >= date_trunc('month', first_open.first_month)
        and schedule.revenue_month <= date_trunc('month', cast(timezone('UTC', {{ q2c_now() }}) as date))
),

earned as (
    select
        'q2c-revrec-' || lower(subsidiary_code) || '-' || lower(currency_code) || '-'
        || strftime(revenue_month, '%Y-%m') as external_id,
        erp_subsidiary_id,
        subsidiary_code,
        currency_code,
        last_day(revenue_month) as journal_date,
        deferred_revenue_account_id,
        revenue_account_id,
        department_id,
        sum(recognized_amount) as recognized_amount
    from in_window
    group by all
)

select
    external_id,
    'revenue_recognition' as journal_kind,
    erp_subsidiary_id,
    subsidiary_code,
    currency_code,
    journal_date,
    deferred_revenue_account_id as account_id,
    department_id,
    recognized_amount as signed_amount,
    'Revenue recognised ' || strftime(journal_date, '%Y-%m') as memo
from earned
union all
select
    external_id,
    'revenue_recognition' as journal_kind,
    erp_subsidiary_id,
    subsidiary_code,
    currency_code,
    journal_date,
    revenue_account_id as account_id,
    department_id,
    -recognized_amount as signed_amount,
    'Revenue recognised ' || strftime(journal_date, '%Y-%m') as memo
from earned
