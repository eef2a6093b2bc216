# The guest's blk-mq sees as many hardware queues as nestbox offered.
n=$(ls /sys/block/vda/mq | wc -l)
echo "NBL2: blk hw queues=$n"
[ "$n" -ge 2 ]
