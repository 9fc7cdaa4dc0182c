with

source as (

    select * from {{ source('ops', 'postings') }}

),

renamed as (

    select
        external_id,
        record_type,
        subject_key,
        payload_hash,
        state as posting_state,
        erp_internal_id,
        attempts,
        last_error_code,
        last_error_message,
        last_error_path,
        correlation_id,
        created_at,
        updated_at

    from source

)

select * from renamed
