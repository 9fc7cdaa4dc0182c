-- One row per CRM deal (archived deals excluded: HubSpot's archive is a delete), with its company (the first
-- associated company by id), that company's subsidiary code, and the billing subscription that names the deal.
with

deals as (
    select * from {{ ref('stg_crm__deals') }}
    where not is_archived
),

deal_companies as (
    select
        from_object_id as deal_id,
        min(to_object_id) as company_id
    from {{ ref('stg_crm__associations') }}
    where not is_deleted and from_object_type = 'deals' and to_object_type = 'companies'
    group by from_object_id
),

companies as (
    select * from {{ ref('stg_crm__companies') }}
),

subscriptions as (
    select
        hubspot_deal_id,
        min(subscription_id) as subscription_id,
        count(*) as subscriptions_naming_deal
    from {{ ref('stg_billing__subscriptions') }}
    where not is_deleted and hubspot_deal_id is not null
    group by hubspot_deal_id
)

select
    deals.deal_id,
    deals.deal_name,
    deals.deal_stage,
    deals.is_closed_won,
    deals.closed_at,
    deals.amount,
    deals.currency_code,
    deal_companies.company_id,
    companies.subsidiary_code,
    subscriptions.subscription_id,
    coalesce(subscriptions.subscriptions_naming_deal, 0) as subscriptions_naming_deal,
    deals.created_at,
    deals.updated_at
from deals
left join deal_companies on deals.deal_id = deal_companies.deal_id
left join companies on deal_companies.company_id = companies.company_id
left join subscriptions on deals.deal_id = subscriptions.hubspot_deal_id
