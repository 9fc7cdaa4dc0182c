-- One row per billing customer, resolved to its CRM company (following merges to the survivor) and its ERP
-- customer (by q2c's externalId convention), with the evidence of each link.
with

billing as (
    select * from {{ ref('stg_billing__customers') }}
    where not is_deleted
),

subsidiary as (
    select * from {{ ref('int_customer_subsidiaries') }}
),

companies as (
    select * from {{ ref('stg_crm__companies') }}
),

live_companies as (
    select * from companies
    where not is_archived
),

absorbed as (
    -- company ids merged away: listed by a live survivor in hs_merged_object_ids, or recorded by ingest
    select
        unnest(merged_object_ids) as merged_company_id,
        company_id as surviving_company_id
    from live_companies
    union distinct
    select
        recorded.merged_company_id,
        recorded.surviving_company_id
    from {{ ref('stg_crm__company_merges') }} as recorded
    inner join live_companies on recorded.surviving_company_id = live_companies.company_id
),

absorbed_once as (
    select *
    from absorbed
    qualify row_number() over (partition by merged_company_id order by surviving_company_id) = 1
),

erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
    where not is_deleted and billing_customer_id is not null
),

erp_once as (
    -- one ERP customer per billing customer: the lowest internal id if people keyed a duplicate externalId
    select *
    from erp_customers
    qualify row_number() over (partition by billing_customer_id order by cast(erp_customer_id as bigint)) = 1
)

select
    billing.customer_id,
    billing.customer_name,
    billing.email,
    billing.currency_code,
    billing.country_code,
    billing.created_at,
    subsidiary.subsidiary_code,
    subsidiary.erp_subsidiary_id,
    subsidiary.erp_subsidiary_name,
    subsidiary.subsidiary_matched_on,
    billing.hubspot_company_id as crm_company_id_on_billing,
    coalesce(live.company_id, absorbed_once.surviving_company_id) as crm_company_id,
    case
        when billing.hubspot_company_id is null then 'missing_reference'
        when absorbed_once.merged_company_id is not null then 'merged_stale_reference'
        when live.company_id is not null then 'matched'
        else 'unknown_company'
    end as crm_link_status,
    case
        when billing.hubspot_company_id is null then 'billing metadata has no hubspot_company_id'
        when absorbed_once.merged_company_id is not null
            then
                'metadata.hubspot_company_id ' || billing.hubspot_company_id || ' was merged into company '
                || absorbed_once.surviving_company_id
        when live.company_id is not null then 'metadata.hubspot_company_id = live company ' || live.company_id
        else 'metadata.hubspot_company_id ' || billing.hubspot_company_id || ' is not a CRM company'
    end as crm_link_evidence,
    erp_once.erp_customer_id,
    erp_once.external_id as erp_external_id,
    coalesce(erp_once.is_inactive, false) as is_erp_customer_inactive,
    case when erp_once.erp_customer_id is not null then 'matched' else 'missing' end as erp_link_status,
    case
        when erp_once.erp_customer_id is not null
            then 'ERP customer ' || erp_once.erp_customer_id || ' has externalId ' || erp_once.external_id
        else 'no ERP customer has externalId bill-' || billing.customer_id
    end as erp_link_evidence
from billing
left join subsidiary on billing.customer_id = subsidiary.customer_id
left join live_companies as live on billing.hubspot_company_id = live.company_id
left join absorbed_once on billing.hubspot_company_id = absorbed_once.merged_company_id
left join erp_once on billing.customer_id = erp_once.billing_customer_id
