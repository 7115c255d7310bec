; Row softmax of a 64 x 1000 fp32 matrix on the vector engine, in two blocks
; of 32 rows: y = exp(x - max(x)) / sum(exp(x - max(x))) along each row.
; Semaphores: 0/1 block 0/1 loaded, 2 a block of results ready.
; SRAM: block b at b * 0x20000; row maxima at 0x40000 + b*0x100, sums at 0x41000 + b*0x100.
.chip seedchip-v1
.tensor X input  fp32 [64,1000] @0x0
.tensor Y output fp32 [64,1000] @0x40000

.core 0
  load dst=sram:0x0:fp32[1000,1]     a=hbm:X:fp32[1000,1]         shape=[32,1000] signal=0
  load dst=sram:0x20000:fp32[1000,1] a=hbm:X+128000:fp32[1000,1]  shape=[32,1000] signal=1

  v.rmax  dst=sram:0x40000:fp32[1,1] a=sram:0x0:fp32[1000,1] shape=[32,1000] wait=0
  v.sub   dst=sram:0x0:fp32[1000,1]  a=sram:0x0:fp32[1000,1] b=sram:0x40000:fp32[1,0] shape=[32,1000]
  v.exp   dst=sram:0x0:fp32[1000,1]  a=sram:0x0:fp32[1000,1] shape=[32,1000]
  v.rsum  dst=sram:0x41000:fp32[1,1] a=sram:0x0:fp32[1000,1] shape=[32,1000]
  v.recip dst=sram:0x41000:fp32[1]   a=sram:0x41000:fp32[1] shape=[32]
  v.mul   dst=sram:0x0:fp32[1000,1]  a=sram:0x0:fp32[1000,1] b=sram:0x41000:fp32[1,0] shape=[32,1000] signal=2
  store   dst=hbm:Y:fp32[1000,1]     a=sram:0x0:fp32[1000,1] shape=[32,1000] wait=2

  v.rmax  dst=sram:0x40100:fp32[1,1]   a=sram:0x20000:fp32[1000,1] shape=[32,1000] wait=1
  v.sub   dst=sram:0x20000:fp32[1000,1] a=sram:0x20000:fp32[1000,1] b=sram:0x40100:fp32[1,0] shape=[32,1000]
  v.exp   dst=sram:0x20000:fp32[1000,1] a=sram:0x20000:fp32[1000,1] shape=[32,1000]
  v.rsum  dst=sram:0x41100:fp32[1,1]   a=sram:0x20000:fp32[1000,1] shape=[32,1000]
  v.recip dst=sram:0x41100:fp32[1]     a=sram:0x41100:fp32[1] shape=[32]
  v.mul   dst=sram:0x20000:fp32[1000,1] a=sram:0x20000:fp32[1000,1] b=sram:0x41100:fp32[1,0] shape=[32,1000] signal=2
  store   dst=hbm:Y+128000:fp32[1000,1] a=sram:0x20000:fp32[1000,1] shape=[32,1000] wait=2
