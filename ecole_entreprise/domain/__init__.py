"""Pure domain code: schema, value formats, validators, rules. No I/O besides reading sheets_schema/."""
