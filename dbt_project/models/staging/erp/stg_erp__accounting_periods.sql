with

source as (
    select * from {{ source('erp', 'accountingperiod') }}
),

renamed as (
    select
        id as period_id,
        periodname as period_name,
        startdate as start_date,
        enddate as end_date,
        coalesce(closed, false) as is_closed,
        coalesce(isposting, false) as is_posting,
        coalesce(isadjust, false) as is_adjustment,
        coalesce(isquarter, false) or coalesce(isyear, false) as is_summary,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
