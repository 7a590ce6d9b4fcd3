#!/usr/bin/env bash
# Settings of the local Ray head that start_local.sh starts and stop_local.sh stops (sourced).
PORT="${DRL_RAY_PORT:-6379}"
DASH="${DRL_RAY_DASHBOARD_PORT:-8265}"
CLIENT_PORT="${DRL_RAY_CLIENT_PORT:-10001}"
NODE_MANAGER_PORT="${DRL_RAY_NODE_MANAGER_PORT:-$((PORT + 1))}"
OBJECT_MANAGER_PORT="${DRL_RAY_OBJECT_MANAGER_PORT:-$((PORT + 2))}"
TEMP_DIR="${DRL_RAY_TEMP_DIR:-/tmp/ray-drl-$PORT}"
# Ray 2.60 turns --node-ip-address 127.0.0.1 into the host's network address (and binds the
# client server, the dashboard agent and the runtime-env agent there). Its single-machine mode
# keeps the node's address on loopback; a head started here takes no other nodes.
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0
# Keep up to this many idle worker processes (Ray's default: one per CPU). Each training stage
# streams its clips through Ray Data tasks; a warm worker saves them the start-up and imports of
# a fresh process in every stage.
export RAY_num_workers_soft_limit="${RAY_num_workers_soft_limit:-8}"
