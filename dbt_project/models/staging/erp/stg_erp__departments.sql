with

source as (
    select * from {{ source('erp', 'department') }}
),

renamed as (
    select
        id as department_id,
        name as department_name,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
