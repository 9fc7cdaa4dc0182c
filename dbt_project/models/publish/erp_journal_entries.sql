-- One row per journal q2c posts: monthly revenue recognition (`q2c-revrec-<sub>-<currency>-<yyyy-mm>`, dated the
-- month's last day) in both posting modes, and in summary mode the daily summarized journals
-- (`q2c-daily-<sub>-<currency>-<yyyy-mm-dd>`). Gate: balanced, every account and reference exists, open period.
with

entries as (
    select * from {{ ref('int_publish__revenue_recognition_entries') }}
    union all
    select * from {{ ref('int_publish__daily_summary_entries') }}
),

lines as (
    select * from {{ ref('erp_journal_entry_lines') }}
),

currencies as (
    select * from {{ ref('stg_erp__currencies') }}
    where not is_deleted
),

departments as (
    select * from {{ ref('stg_erp__departments') }}
    where not is_deleted
),

journals as (
    select
        external_id,
        any_value(journal_kind) as journal_kind,
        any_value(erp_subsidiary_id) as erp_subsidiary_id,
        any_value(subsidiary_code) as subsidiary_code,
        any_value(currency_code) as currency_code,
        any_value(journal_date) as journal_date
    from entries
    group by external_id
),

line_totals as (
    select
        lines.external_id,
        count(*) as line_count,
        coalesce(sum(lines.debit), 0) as total_debit,
        coalesce(sum(lines.credit), 0) as total_credit,
        count(*) filter (where lines.account_number is null) as lines_without_account,
        count(*) filter (where lines.department_id is not null and departments.department_id is null)
            as lines_without_department,
        to_json(list(
            {{ json_without_nulls("json_object(
                'account', " ~ erp_ref_id('lines.account_id') ~ ",
                'debit', lines.debit,
                'credit', lines.credit,
                'memo', lines.memo,
                'department', case when lines.department_id is not null then "
                ~ erp_ref_id('lines.department_id') ~ " end
            )") }}
            order by lines.line_number
        )) as items
    from lines
    left join departments on lines.department_id = departments.department_id
    group by lines.external_id
),

joined as (
    select
        journals.*,
        currencies.currency_id,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.total_debit, 0) as total_debit,
        coalesce(line_totals.total_credit, 0) as total_credit,
        coalesce(line_totals.lines_without_account, 0) as lines_without_account,
        coalesce(line_totals.lines_without_department, 0) as lines_without_department,
        line_totals.items,
        period.period_id as own_period_id,
        period.period_name as own_period_name,
        {{ effective_posting_date('period', 'journals.journal_date') }} as moved_posting_date,
        {{ effective_posting_period('period') }} as moved_period_id,
        {{ stays_in_closed_period('period') }} as is_in_closed_period
    from journals
    left join line_totals on journals.external_id = line_totals.external_id
    left join currencies on journals.currency_code = currencies.currency_code
    {{ join_publish_period('period', 'journals.journal_date', 'journals.erp_subsidiary_id') }}
),

gated as (
    select
        *,
        coalesce(moved_posting_date, journal_date) as tran_date,
        coalesce(moved_period_id, own_period_id) as posting_period_id,
        case
            when total_debit != total_credit then 'UNBALANCED'
            when line_count < 2 then 'UNBALANCED'
            when
                erp_subsidiary_id is null or currency_id is null or lines_without_account > 0
                or lines_without_department > 0 or own_period_id is null
                then 'REFERENCE_MISSING'
            when is_in_closed_period then 'POSTING_PERIOD_CLOSED'
        end as reason_code,
        case
            when total_debit != total_credit
                then
                    'unbalanced: debits ' || cast(total_debit as varchar) || ' != credits '
                    || cast(total_credit as varchar)
            when line_count < 2 then 'unbalanced: a journal needs at least two lines, it has ' || line_count
            when erp_subsidiary_id is null then 'no ERP subsidiary for subsidiary code ' || subsidiary_code
            when currency_id is null then 'currency ' || currency_code || ' is not an ERP currency'
            when lines_without_account > 0 then lines_without_account || ' line(s) without an ERP account'
            when lines_without_department > 0 then lines_without_department || ' line(s) with an unknown department'
            when own_period_id is null then 'no ERP accounting period for ' || cast(journal_date as varchar)
            when is_in_closed_period
                then 'period closed: ' || own_period_name || ' is closed for subsidiary ' || erp_subsidiary_id
        end as quarantine_reason
    from joined
),

bodies as (
    select
        *,
        cast({{ json_without_nulls("json_object(
            'externalId', external_id,
            'subsidiary', " ~ erp_ref_id('erp_subsidiary_id') ~ ",
            'currency', " ~ erp_ref_id('currency_id') ~ ",
            'tranDate', strftime(tran_date, '%Y-%m-%d'),
            'postingPeriod', " ~ erp_ref_id('posting_period_id') ~ ",
            'memo', case journal_kind
                when 'revenue_recognition' then 'q2c revenue recognition ' || strftime(journal_date, '%Y-%m')
                else 'q2c daily summary ' || strftime(journal_date, '%Y-%m-%d')
            end || ' (' || currency_code || ')',
            'approved', true,
            'line', json_object('items', coalesce(items, json('[]')))
        )") }} as varchar) as payload
    from gated
)

select
    cast(external_id as varchar) as external_id,
    cast('journalEntry' as varchar) as record_type,
    cast(external_id as varchar) as subject_key,
    cast(journal_kind as varchar) as journal_kind,
    cast(subsidiary_code as varchar) as subsidiary_code,
    cast(erp_subsidiary_id as varchar) as erp_subsidiary_id,
    cast(currency_code as varchar) as currency_code,
    cast(journal_date as date) as journal_date,
    cast(tran_date as date) as tran_date,
    cast(posting_period_id as varchar) as posting_period_id,
    cast(line_count as integer) as line_count,
    cast(total_debit as decimal(38, 4)) as total_debit,
    cast(total_credit as decimal(38, 4)) as total_credit,
    cast(case when reason_code is null then 'ready' else 'quarantined' end as varchar) as validation_status,
    cast(reason_code as varchar) as reason_code,
    cast(quarantine_reason as varchar) as quarantine_reason,
    cast([] as varchar[]) as depends_on,
    payload,
    cast({{ payload_hash('payload') }} as varchar) as payload_hash
from bodies
