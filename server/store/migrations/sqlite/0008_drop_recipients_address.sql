-- recipients_address (tenant_id, address) served no query: the recipient
-- filter of ListMessages probes a message's recipients by the primary key
-- (message_row, position), as does the feedback update, and nothing else
-- looks recipients up by address. Yet every new message inserted into it
-- at a place given by its recipient's address, so a batch of 1,000
-- messages to different people changed about 1,000 of its pages, each
-- written to the WAL at commit: half of the store's cost of a SendBatch
-- (bench/store_bench, 1,000-message batches: 34,000 -> 70,000 messages/s
-- without it). The MySQL schema keeps its own indexes.
DROP INDEX IF EXISTS recipients_address;
