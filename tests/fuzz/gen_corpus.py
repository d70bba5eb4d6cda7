#!/usr/bin/env python3
"""Writes the seed corpus of the codec fuzzers (tests/fuzz/corpus/<target>/) from the examples of
shared/protocols/watch.md and iw.md and their documented quirks. Run it again after changing the list;
libFuzzer may add its own finds to the same folders (keep those small)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

POS = "041126,081530,A,22.570733,N,113.8626083,E,0.00,249.5,0.0,6,100,66,1520,0,00000000"
WATCH = {
    "lk_plain": b"[SG*5678901234*0002*LK]",
    "lk_counters": b"[3G*5678901234*000B*LK,812,3,76]",
    "lk_lower": b"[3G*5678901234*0002*lk]",
    "lk_idx": b"[ZJ*5678901234*00A1*0002*LK]",
    "lk_imei": b"[CS*867584031234567*0002*LK]",
    "al_sos_nofix": b"[3G*5678901234*006F*AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000,1,255,460,0,25871,13042,140,0,12.0]",
    "al_fall_fix": ("[3G*5678901234*0100*AL_LTE," + POS.replace("00000000", "00200000") + ",2,1,460,0,9520,3671,-70,9520,3672,-60,1,[Home AP],74:de:2b:44:88:8c,-55,20]").encode(),
    "al_general": b"[3G*5678901234*0030*ALCUSTOMER1,,,V,,,,,,,,,,,,,0]",
    "al_garbled": b"[3G*5678901234*0030*AL,xx,yy,Q,north,,,,]",
    "ud_fix": ("[3G*5678901234*0079*UD," + POS + ",0]").encode(),
    "ud2_cells_hex": ("[3G*5678901234*0079*UD2," + POS + ",2,0,460,0,25a1,3f0c,,25872,13043,-80,0]").encode(),
    "ud_wifi": ("[3G*5678901234*0099*UD_WCDMA," + POS + ",0,3,,00:11:22:33:44:55,-60,my ssid,AA-BB-CC-DD-EE-FF,-70,a]b[c,001122334455,]").encode(),
    "ud_south_west": b"[SG*123456789*0050*UD,010125,235959,A,-33.868820,S,151.209290,W,3.5,90,12,7,60,100,10,0,0]",
    "ud_leading_space": b"[3G*5678901234*0050*UD3,041126,081530,A, 22.570733,,+113.8626083,,0,0,0,0,0,0,0,0,0000]",
    "wt": ("[3G*5678901234*0079*WT," + POS + "]").encode(),
    "ud_lte_short": b"[3G*5678901234*0020*UD_LTE,041126,081530,V,0,N,0,E]",
    "bphrt": b"[3G*5678901234*0014*bphrt,158,96,104,,,,]",
    "bphrt_upper": b"[3G*5678901234*0014*BPHRT,120,80,0,170,1,80,60]",
    "blood": b"[3G*5678901234*000C*BLOOD,130,85]",
    "pulse": b"[3G*5678901234*0008*PULSE,72]",
    "heart": b"[3G*5678901234*0008*heart,0]",
    "oxygen": b"[3G*5678901234*000A*oxygen,1,97]",
    "oxygen_low": b"[3G*5678901234*000A*OXYGEN,1,85]",
    "btemp2": b"[3G*5678901234*000E*btemp2,1,36.55]",
    "temp": b"[3G*5678901234*0009*TEMP,36.8]",
    "config": b"[3G*5678901234*0020*CONFIG,TY:g36,UL:60,SY:0,CM:0,WT:0,HR:1,TB:5,CS:0,PP:1,AB:0,HH:1,TR:0]",
    "ccid": b"[3G*5678901234*0019*CCID,89860117851014783481]",
    "tkq": b"[3G*5678901234*0003*TKQ]",
    "tkq2": b"[3G*5678901234*0004*TKQ2]",
    "tk_voice": b"[3G*5678901234*0010*TK,#!AMR\n\x3c\x7d\x01\x7d\x02\x7d\x03\x7d\x04\x7d\x05\x00\xff]",
    "tk_ack": b"[3G*5678901234*0004*TK,1]",
    "tk_bad_escape": b"[3G*5678901234*0010*TK,#!AMR\x7d\x06]",
    "init": b"[3G*5678901234*0010*INIT,13800138000,1,1,gc66]",
    "cmd_reply_cr": b"[3G*5678901234*0002*CR]",
    "cmd_reply_upload": b"[3G*5678901234*0006*UPLOAD]",
    "unknown": b"[3G*5678901234*0009*WHATEVER,1,2]",
    "bad_header": b"[3G*56789x1234*0002*LK]",
    "bad_no_len": b"[3G*5678901234*LK]",
    "empty_type": b"[3G*5678901234*0000*]",
}

IW_BLOCK = "261126A3627.4412N11617.9050E000.0081530000.0006001008800102"
IW = {
    "login": b"IWAP00353456789012345#",
    "login_full": b"IWAP00353456789012345,89860117851014783481,460011234567890#",
    "login_trv": b"TRVAP00353456789012345#",
    "ap01": ("IWAP01" + IW_BLOCK + ",460,0,9520,3671#").encode(),
    "ap01_wifi": ("IWAP01" + IW_BLOCK + ",460,0,9520,3671,Home|74-DE-2B-44-88-8C|-55&a|b|c|00-11-22-33-44-55|-70#").encode(),
    "ap01_nofix": b"IWAP01261126V0000.0000N00000.0000E000.0081530000.0006000008800102,460,0,,#",
    "ap01_south_west": b"IWAP01250101A3351.1292S15112.5574W012.3235959090.5006008010000102,505,1,1234,5678#",
    "ap10_sos": ("IWAP10" + IW_BLOCK + ",460,0,9520,3671,01,zh-cn,00#").encode(),
    "ap10_fall_nofix": b"IWAP10261126V0000.0000N00000.0000E000.0081530000.0006000008800102,460,0,9520,3671,05,zh-cn,00#",
    "ap10_none": ("IWAP10" + IW_BLOCK + ",460,0,9520,3671,00,zh-cn,00#").encode(),
    "ap10_other": ("IWAP10" + IW_BLOCK + ",460,0,9520,3671,03,zh-cn,00,x|74-DE-2B-44-88-8C|-40#").encode(),
    "ap10_garbled": b"IWAP10garbage,460,0,9520,3671,01,zh-cn,00#",
    "ap02": b"IWAP02,zh_cn,0,3,460,0,9520|3671|13,9520|3672|12,9520|3673|11,2,abc|74-DE-2B-44-88-8C|-55&def|00-11-22-33-44-55|-60#",
    "ap03": b"IWAP03,06000908000102,5555,1#",
    "ap49": b"IWAP49,68#",
    "apht": b"IWAPHT,60,130,85#",
    "aphp": b"IWAPHP,60,130,85,95,5.6,36.5,,#",
    "aphp_blank": b"IWAPHP,,,,,,#",
    "ap50": b"IWAP50,36.7,85#",
    "answer_serial": b"IWAP16,080835#",
    "answer_12": b"IWAP12,080835,13800138000#",
    "unknown": b"IWAPZZ,1,2,3#",
    "bad_direction": b"IWBP00,20261129083000,8#",
    "bad_hash": b"IWAP49,6#8#",
}

def chunked(frames, garbage=b""):
    return garbage.join(frames)

FRAME = {
    # first byte: bit0 protocol (0 watch, 1 IW), bit1 default cap, bits 2-7 small cap; second: chunk
    "watch_many": b"\x02\x03" + chunked([WATCH["lk_plain"], WATCH["al_sos_nofix"], WATCH["bphrt"]], b"\r\n"),
    "watch_garbage": b"\x02\x00" + b"junk]]" + WATCH["lk_counters"] + b"\x00\xff" + WATCH["ud_wifi"] + b"tail",
    "watch_nested": b"\x02\x05[a[b[c]d]e]" + WATCH["ud_wifi"],
    "watch_bytewise": b"\x02\x00" + WATCH["al_fall_fix"],
    "watch_endless": b"\x40\x01[3G*5678901234*0000*LK,[[[[" + b"x" * 40,
    "watch_small_cap": b"\x20\x02" + WATCH["lk_plain"] + WATCH["lk_plain"],
    "watch_voice": b"\x02\x07" + WATCH["tk_voice"] + WATCH["tk_ack"],
    "iw_many": b"\x03\x03" + IW["login"] + IW["ap03"] + b"\r\n" + IW["ap10_sos"],
    "iw_garbage": b"\x03\x00" + b"I\r\nTR" + IW["login_trv"] + b"xxIWAP49,68#",
    "iw_split_prefix": b"\x03\x00" + b"IIWTTRVAP49,70#",
    "iw_endless": b"\x41\x02IWAP01" + b"9" * 60,
    "iw_wifi": b"\x03\x04" + IW["ap02"] + IW["ap01_wifi"],
}

for target, seeds in (("fuzz_watch", WATCH), ("fuzz_iw", IW), ("fuzz_frame", FRAME)):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(target, len(seeds))
