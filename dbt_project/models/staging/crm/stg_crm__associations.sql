with

source as (
    select * from {{ source('crm', 'associations') }}
),

renamed as (
    select
        from_type as from_object_type,
        from_id as from_object_id,
        to_type as to_object_type,
        to_id as to_object_id,
        coalesce(deleted, false) as is_deleted
    from source
)

select * from renamed
