-- One row per billing subscription, with its customer's entity, the CRM deal its metadata names, and its annual
-- contract value (see int_subscription_contract_values). Subscriptions without licensed items are worth 0.
with

subscriptions as (
    select * from {{ ref('stg_billing__subscriptions') }}
    where not is_deleted
),

contract_values as (
    select * from {{ ref('int_subscription_contract_values') }}
),

customers as (
    select * from {{ ref('customers') }}
)

select
    subscriptions.subscription_id,
    subscriptions.customer_id,
    customers.subsidiary_code,
    customers.erp_subsidiary_id,
    subscriptions.subscription_status,
    subscriptions.currency_code,
    subscriptions.hubspot_deal_id,
    subscriptions.collection_method,
    coalesce(contract_values.licensed_items, 0) as licensed_items,
    coalesce(contract_values.contract_value, cast(0 as decimal(38, 4))) as contract_value,
    subscriptions.started_at,
    subscriptions.canceled_at,
    subscriptions.ended_at,
    subscriptions.created_at
from subscriptions
left join contract_values on subscriptions.subscription_id = contract_values.subscription_id
left join customers on subscriptions.customer_id = customers.customer_id
