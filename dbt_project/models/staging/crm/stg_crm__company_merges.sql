with

source as (
    select * from {{ source('crm', 'company_merges') }}
),

renamed as (
    select
        loser_id as merged_company_id,
        winner_id as surviving_company_id
    from source
)

select * from renamed
