#!/usr/bin/env bash
# A Maelstrom echo node in bash: just enough JSON handling for init and echo messages
# whose fields are strings and integers (sed, no jq).
node_id=""
n=0
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$2"; }
while IFS= read -r line; do
  n=$((n + 1))
  src=$(field src "$line")
  type=$(field type "$line")
  msg_id=$(field msg_id "$line")
  case "$type" in
    init)
      node_id=$(field node_id "$line")
      echo "$node_id initialised (bash)" >&2
      printf '{"src":"%s","dest":"%s","body":{"type":"init_ok","msg_id":%d,"in_reply_to":%s}}\n' "$node_id" "$src" "$n" "$msg_id" ;;
    echo)
      echo_value=$(field echo "$line")
      printf '{"src":"%s","dest":"%s","body":{"type":"echo_ok","msg_id":%d,"in_reply_to":%s,"echo":"%s"}}\n' "$node_id" "$src" "$n" "$msg_id" "$echo_value" ;;
  esac
done
