-- One row per line of each journal posting in publish.erp_journal_entries: the entries netted per account and
-- department, a positive net on the debit side and a negative one on the credit side (NetSuite refuses negative
-- amounts). Lines that net to zero are left out.
with

entries as (
    select * from {{ ref('int_publish__revenue_recognition_entries') }}
    union all
    select * from {{ ref('int_publish__daily_summary_entries') }}
),

accounts as (
    select * from {{ ref('stg_erp__accounts') }}
    where not is_deleted
),

netted as (
    select
        external_id,
        account_id,
        department_id,
        sum(signed_amount) as net_amount,
        string_agg(distinct memo, '; ' order by memo) as memo
    from entries
    group by external_id, account_id, department_id
    having sum(signed_amount) != 0
)

select
    cast(netted.external_id as varchar) as external_id,
    cast(row_number() over (
        partition by netted.external_id
        order by netted.net_amount < 0, accounts.account_number, netted.account_id, netted.department_id
    ) as integer) as line_number,
    cast(netted.account_id as varchar) as account_id,
    cast(accounts.account_number as varchar) as account_number,
    cast(case when netted.net_amount > 0 then netted.net_amount end as decimal(38, 4)) as debit,
    cast(case when netted.net_amount < 0 then -netted.net_amount end as decimal(38, 4)) as credit,
    cast(netted.department_id as varchar) as department_id,
    cast(netted.memo as varchar) as memo
from netted
left join accounts on netted.account_id = accounts.account_id
