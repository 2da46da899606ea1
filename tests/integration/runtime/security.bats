#!/usr/bin/env bats
# linux.personality, process.ioPriority, process.scheduler,
# process.execCPUAffinity.

load ../helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "linux.personality LINUX32 makes uname -m say i686" {
  update_config '.linux.personality = {"domain": "LINUX32"}'
  set_args uname -m
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = i686 ]
}

@test "linux.personality applies to exec'd processes too" {
  update_config '.linux.personality = {"domain": "LINUX32"}'
  set_args sleep 100
  runf_detached run -d t1
  run runf exec t1 uname -m
  [ "$status" -eq 0 ]
  [ "$output" = i686 ]
  runf delete -f t1
  update_config '.linux.personality = {"domain": "LINUX"}'
  runf_detached run -d t2
  run runf exec t2 uname -m
  [ "$output" = "$(uname -m)" ]
}

@test "an unknown personality domain is refused" {
  update_config '.linux.personality = {"domain": "BSD"}'
  run runf run t1
  assert_one_error_line "linux.personality.domain"
}

@test "process.ioPriority is applied" {
  update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}'
  set_args ionice -p 1
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "$output" == *idle* ]]
}

@test "process.scheduler sets the policy and nice value" {
  update_config '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 5}'
  set_args sh -c 'cut -d" " -f19,41 /proc/self/stat'
  run runf run t1
  [ "$status" -eq 0 ]
  # nice 5, policy 3 (SCHED_BATCH)
  [ "$output" = "5 3" ]
}

@test "process.execCPUAffinity.final pins the process" {
  update_config '.process.execCPUAffinity = {"final": "0"}'
  set_args sh -c 'grep Cpus_allowed_list /proc/self/status'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = "Cpus_allowed_list:	0" ]
}

@test "bad scheduler and affinity values are refused by name" {
  update_config '.process.scheduler = {"policy": "SCHED_NOPE"}'
  run runf run t1
  assert_one_error_line "process.scheduler.policy"
  update_config 'del(.process.scheduler) | .process.execCPUAffinity = {"final": "zero"}'
  run runf run t1
  assert_one_error_line "process.execCPUAffinity.final"
}
