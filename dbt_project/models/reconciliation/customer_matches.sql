-- One row per billing customer: its CRM company (by metadata.hubspot_company_id, merges followed) and its ERP customer
-- (externalId `bill-` + id) side by side, with names, subsidiaries and a match status.
with

customers as (
    select * from {{ ref('customers') }}
),

companies as (
    select * from {{ ref('stg_crm__companies') }}
),

erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

erp_subsidiaries as (
    select * from {{ ref('stg_erp__subsidiaries') }}
)

select
    customers.customer_id,
    customers.customer_name as billing_customer_name,
    customers.subsidiary_code,
    customers.currency_code as billing_currency,
    customers.created_at as billing_created_at,
    customers.crm_company_id_on_billing,
    customers.crm_company_id,
    companies.company_name as crm_company_name,
    companies.subsidiary_code as crm_subsidiary_code,
    customers.crm_link_status,
    customers.crm_link_evidence,
    customers.erp_customer_id,
    erp_customers.company_name as erp_customer_name,
    customers.erp_subsidiary_id as expected_erp_subsidiary_id,
    erp_customers.subsidiary_id as erp_subsidiary_id,
    erp_subsidiaries.country_code as erp_subsidiary_country,
    erp_customers.crm_company_id as erp_crm_company_id,
    customers.is_erp_customer_inactive,
    customers.erp_link_status,
    customers.erp_link_evidence,
    case
        when customers.crm_link_status = 'merged_stale_reference' then 'crm_merged_stale_reference'
        when customers.crm_link_status <> 'matched' then 'crm_unmatched'
        when customers.erp_link_status = 'missing' and customers.created_at > {{ settled_before() }}
            then 'erp_pending'
        when customers.erp_link_status = 'missing' then 'erp_unmatched'
        when customers.is_erp_customer_inactive then 'erp_inactive'
        else 'matched'
    end as match_status
from customers
left join companies on customers.crm_company_id = companies.company_id
left join erp_customers on customers.erp_customer_id = erp_customers.erp_customer_id
left join erp_subsidiaries on erp_customers.subsidiary_id = erp_subsidiaries.subsidiary_id
