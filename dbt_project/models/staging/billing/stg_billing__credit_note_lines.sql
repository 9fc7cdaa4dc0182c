with

source as (
    select * from {{ source('billing', 'credit_note_lines') }}
),

renamed as (
    select
        id as credit_note_line_id,
        credit_note as credit_note_id,
        invoice_line_item as invoice_line_id,
        payload ->> 'description' as line_description,
        quantity,
        amount as amount_minor,
        coalesce(deleted, false) as is_deleted
    from source
)

select * from renamed
