with

source as (
    select * from {{ source('crm', 'companies') }}
),

renamed as (
    select
        id as company_id,
        payload -> 'properties' ->> 'name' as company_name,
        payload -> 'properties' ->> 'domain' as company_domain,
        upper(payload -> 'properties' ->> 'subsidiary') as subsidiary_code,
        stripe_customer_id,
        netsuite_customer_id,
        -- HubSpot lists the ids a company absorbed, separated by semicolons
        list_filter(
            string_split(coalesce(payload -> 'properties' ->> 'hs_merged_object_ids', ''), ';'), x -> x <> ''
        ) as merged_object_ids,
        merged_into as merged_into_company_id,
        coalesce(archived, false) as is_archived,
        archived_at,
        cast(payload ->> 'createdAt' as timestamptz) as created_at,
        updated_at
    from source
)

select * from renamed
