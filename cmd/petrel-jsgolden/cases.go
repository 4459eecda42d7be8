package main

import "encoding/json"

func stream(name, subjectName, body string) golden {
	return golden{Name: name, Subject: "$JS.API.STREAM.CREATE." + subjectName, Request: json.RawMessage(body)}
}

func consumer(name, streamCase, subject, body string) golden {
	return golden{Name: name, Subject: subject, Stream: streamCase, Request: json.RawMessage(body)}
}

// cases are the recorded requests: minimal ones, the shapes KV, natscli bench and ordered
// consumers send, and bad ones whose error code and text must match.
func cases() []golden { return append(streamCases(), consumerCases()...) }

func streamCases() []golden {
	return []golden{
		stream("stream_minimal", "ORDERS", `{"name":"ORDERS"}`),
		stream("stream_subjects", "ORDERS", `{"name":"ORDERS","subjects":["orders.>","returns.*"]}`),
		stream("stream_bench", "benchstream", `{"name":"benchstream","subjects":["bench.js"],"retention":"limits","max_consumers":0,"max_msgs_per_subject":0,"max_msgs":0,"max_bytes":1073741824,"max_age":0,"max_msg_size":-1,"storage":"file","discard":"new","num_replicas":1,"duplicate_window":120000000000,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false,"allow_direct":true,"mirror_direct":false,"consumer_limits":{},"allow_atomic":true,"allow_batched":true}`),
		stream("stream_bench_async", "benchstream", `{"name":"benchstream","subjects":["bench.js"],"retention":"limits","max_bytes":1073741824,"storage":"file","discard":"new","num_replicas":1,"duplicate_window":120000000000,"allow_direct":true,"consumer_limits":{},"persist_mode":"async"}`),
		stream("stream_kv", "KV_config", `{"name":"KV_config","subjects":["$KV.config.>"],"max_msgs_per_subject":5,"max_bytes":-1,"max_age":0,"max_msg_size":-1,"storage":"file","num_replicas":1,"discard":"new","max_consumers":-1,"max_msgs":-1,"allow_rollup_hdrs":true,"deny_delete":true,"allow_direct":true,"duplicate_window":120000000000,"compression":"none"}`),
		stream("stream_kv_ttl", "KV_cache", `{"name":"KV_cache","subjects":["$KV.cache.>"],"max_msgs_per_subject":1,"max_age":60000000000,"storage":"memory","discard":"new","allow_rollup_hdrs":true,"deny_delete":true,"allow_direct":true,"allow_msg_ttl":true,"subject_delete_marker_ttl":5000000000}`),
		stream("stream_max_age_caps_window", "AGE", `{"name":"AGE","max_age":30000000000}`),
		stream("stream_workqueue", "JOBS", `{"name":"JOBS","subjects":["jobs.>"],"retention":"workqueue"}`),
		stream("stream_interest", "EVENTS", `{"name":"EVENTS","subjects":["events.>"],"retention":"interest","storage":"memory"}`),
		stream("stream_metadata", "META", `{"name":"META","metadata":{"owner":"team-a"},"description":"described"}`),
		stream("stream_republish", "REPUB", `{"name":"REPUB","subjects":["in.>"],"republish":{"dest":"out.>"}}`),
		stream("stream_mirror", "MIRROR", `{"name":"MIRROR","mirror":{"name":"ORIGIN"}}`),
		stream("stream_schedules", "SCHED", `{"name":"SCHED","allow_msg_schedules":true}`),
		stream("stream_placement_empty", "PLACE", `{"name":"PLACE","placement":{}}`),
		stream("stream_discard_upper", "DISC", `{"name":"DISC","discard":"NEW"}`),
		stream("bad_stream_name_mismatch", "OTHER", `{"name":"ORDERS"}`),
		stream("bad_stream_name_dot", "a.b", `{"name":"a.b"}`),
		stream("bad_stream_replicas", "R3", `{"name":"R3","num_replicas":3}`),
		stream("bad_stream_replicas_six", "R6", `{"name":"R6","num_replicas":6}`),
		stream("bad_stream_retention", "BADRET", `{"name":"BADRET","retention":"forever"}`),
		stream("bad_stream_storage", "BADST", `{"name":"BADST","storage":"disk"}`),
		stream("bad_stream_compression", "BADC", `{"name":"BADC","compression":"zip"}`),
		stream("bad_stream_unknown_field", "UNK", `{"name":"UNK","colour":"red"}`),
		stream("bad_stream_api_subject", "API", `{"name":"API","subjects":["$JS.API.>"]}`),
		stream("bad_stream_overlap", "OVL", `{"name":"OVL","subjects":["a.*","a.b"]}`),
		stream("bad_stream_duplicate_subject", "DUP", `{"name":"DUP","subjects":["a","a"]}`),
		stream("bad_stream_invalid_subject", "INV", `{"name":"INV","subjects":["a..b"]}`),
		stream("bad_stream_capture_all", "ALL", `{"name":"ALL","subjects":[">"]}`),
		stream("bad_stream_window_over_age", "WIN", `{"name":"WIN","max_age":1000000000,"duplicate_window":60000000000}`),
		stream("bad_stream_small_age", "SMALL", `{"name":"SMALL","max_age":1000}`),
		stream("bad_stream_sealed", "SEALED", `{"name":"SEALED","sealed":true}`),
		stream("bad_stream_mirror_subjects", "MS", `{"name":"MS","subjects":["x"],"mirror":{"name":"ORIGIN"}}`),
		stream("bad_stream_mirror_sources", "MSRC", `{"name":"MSRC","mirror":{"name":"ORIGIN"},"sources":[{"name":"O2"}]}`),
		stream("bad_stream_mirror_direct", "MD", `{"name":"MD","mirror_direct":true}`),
		stream("bad_stream_rollup_no_purge", "RP", `{"name":"RP","allow_rollup_hdrs":true,"deny_purge":true}`),
		stream("bad_stream_per_subject", "PS", `{"name":"PS","discard_new_per_subject":true}`),
		stream("bad_stream_counter_ttl", "CNT", `{"name":"CNT","allow_msg_counter":true,"allow_msg_ttl":true}`),
		stream("bad_stream_marker_ttl", "MTTL", `{"name":"MTTL","subject_delete_marker_ttl":1000}`),
		stream("bad_stream_async_memory", "ASYNC", `{"name":"ASYNC","storage":"memory","persist_mode":"async"}`),
		stream("bad_stream_republish_cycle", "CYC", `{"name":"CYC","subjects":["a.>"],"republish":{"src":">","dest":"a.b"}}`),
		stream("bad_stream_negative_replicas", "NEG", `{"name":"NEG","num_replicas":-1}`),
		stream("bad_stream_preferred", "PREF", `{"name":"PREF","placement":{"preferred":"n1"}}`),
	}
}

func consumerCases() []golden {
	return []golden{
		consumer("consumer_bench_durable", "stream_bench", "$JS.API.CONSUMER.CREATE.benchstream.nats-bench",
			`{"stream_name":"benchstream","config":{"durable_name":"nats-bench","deliver_policy":"all","ack_policy":"explicit","replay_policy":"instant","max_ack_pending":500,"inactive_threshold":10000000000,"num_replicas":0},"action":""}`),
		consumer("consumer_bench_ordered", "stream_bench", "$JS.API.CONSUMER.CREATE.benchstream.abc_1",
			`{"stream_name":"benchstream","config":{"name":"abc_1","deliver_policy":"all","ack_policy":"none","replay_policy":"instant","inactive_threshold":10000000000,"num_replicas":1,"mem_storage":true},"action":""}`),
		consumer("consumer_minimal_named", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.C1",
			`{"stream_name":"ORDERS","config":{"name":"C1"}}`),
		consumer("consumer_explicit_defaults", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.D1",
			`{"stream_name":"ORDERS","config":{"durable_name":"D1","ack_policy":"explicit"}}`),
		consumer("consumer_filter_in_subject", "stream_subjects", "$JS.API.CONSUMER.CREATE.ORDERS.F1.orders.eu",
			`{"stream_name":"ORDERS","config":{"name":"F1","filter_subject":"orders.eu","ack_policy":"explicit"}}`),
		consumer("consumer_filter_not_subset", "stream_subjects", "$JS.API.CONSUMER.CREATE.ORDERS.F2",
			`{"stream_name":"ORDERS","config":{"name":"F2","filter_subject":"elsewhere.>"}}`),
		consumer("consumer_kv_watch", "stream_kv", "$JS.API.CONSUMER.CREATE.KV_config.W1.$KV.config.>",
			`{"stream_name":"KV_config","config":{"name":"W1","deliver_subject":"_INBOX.watch","deliver_policy":"last_per_subject","ack_policy":"none","filter_subject":"$KV.config.>","replay_policy":"instant","flow_control":true,"idle_heartbeat":5000000000,"headers_only":true,"num_replicas":1,"mem_storage":true}}`),
		consumer("consumer_backoff", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.B1",
			`{"stream_name":"ORDERS","config":{"durable_name":"B1","ack_policy":"explicit","backoff":[1000000000,5000000000],"max_deliver":3}}`),
		consumer("consumer_pinned", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.P1",
			`{"stream_name":"ORDERS","config":{"durable_name":"P1","ack_policy":"explicit","priority_policy":"pinned_client","priority_groups":["A"]}}`),
		consumer("consumer_legacy_ephemeral", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS",
			`{"stream_name":"ORDERS","config":{"deliver_policy":"new"}}`),
		consumer("consumer_workqueue", "stream_workqueue", "$JS.API.CONSUMER.CREATE.JOBS.WQ1",
			`{"stream_name":"JOBS","config":{"durable_name":"WQ1","ack_policy":"explicit"}}`),
		consumer("bad_consumer_both_filters", "stream_subjects", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","filter_subject":"orders.a","filter_subjects":["orders.b"]}}`),
		consumer("bad_consumer_overlap_filters", "stream_subjects", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","filter_subjects":["orders.*","orders.a"]}}`),
		consumer("bad_consumer_empty_filter", "stream_subjects", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","filter_subjects":[""]}}`),
		consumer("bad_consumer_filter_mismatch", "stream_subjects", "$JS.API.CONSUMER.CREATE.ORDERS.X.orders.a",
			`{"stream_name":"ORDERS","config":{"name":"X","filter_subject":"orders.b"}}`),
		consumer("bad_consumer_durable_name", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"durable_name":"Y"}}`),
		consumer("bad_consumer_name_durable", "stream_minimal", "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"durable_name":"X","name":"Z"}}`),
		consumer("bad_consumer_wq_ack_none", "stream_workqueue", "$JS.API.CONSUMER.CREATE.JOBS.X",
			`{"stream_name":"JOBS","config":{"name":"X","ack_policy":"none"}}`),
		consumer("bad_consumer_wq_ack_all", "stream_workqueue", "$JS.API.CONSUMER.CREATE.JOBS.X",
			`{"stream_name":"JOBS","config":{"name":"X","ack_policy":"all"}}`),
		consumer("bad_consumer_wq_deliver_new", "stream_workqueue", "$JS.API.CONSUMER.CREATE.JOBS.X",
			`{"stream_name":"JOBS","config":{"name":"X","ack_policy":"explicit","deliver_policy":"new"}}`),
		consumer("bad_consumer_small_heartbeat", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","deliver_subject":"push.x","idle_heartbeat":1000000}}`),
		consumer("bad_consumer_fc_no_heartbeat", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","deliver_subject":"push.x","flow_control":true}}`),
		consumer("bad_consumer_pull_heartbeat", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","idle_heartbeat":1000000000}}`),
		consumer("bad_consumer_backoff_max_deliver", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","ack_policy":"explicit","max_deliver":1,"backoff":[1000000000,2000000000]}}`),
		consumer("bad_consumer_replicas", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","num_replicas":3}}`),
		consumer("bad_consumer_start_seq", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","deliver_policy":"by_start_sequence"}}`),
		consumer("bad_consumer_last_per_subject", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","deliver_policy":"last_per_subject"}}`),
		consumer("bad_consumer_ack_policy", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","ack_policy":"maybe"}}`),
		consumer("bad_consumer_priority_no_group", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"ORDERS","config":{"name":"X","priority_policy":"overflow"}}`),
		consumer("bad_consumer_stream_mismatch", "stream_minimal", "$JS.API.CONSUMER.CREATE.ORDERS.X",
			`{"stream_name":"OTHER","config":{"name":"X"}}`),
	}
}
