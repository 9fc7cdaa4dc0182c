with

source as (
    select * from {{ source('erp', 'customer') }}
),

renamed as (
    select
        id as erp_customer_id,
        entityid as entity_name,
        payload ->> 'companyname' as company_name,
        externalid as external_id,
        -- q2c's convention: externalId `bill-` + the billing customer id
        case when starts_with(externalid, 'bill-') then substr(externalid, 6) end as billing_customer_id,
        payload ->> 'custentity_q2c_crm_company_id' as crm_company_id,
        subsidiary as subsidiary_id,
        currency as currency_id,
        coalesce(isinactive, false) as is_inactive,
        datecreated as created_at,
        lastmodifieddate as modified_at,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
