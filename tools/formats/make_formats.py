#!/usr/bin/python3
"""Writes the clinical-format test fixtures under tests/Deri.Tests/Fixtures/formats from PTB-XL record 00001_lr
(100 Hz, 10 s, 12 leads, 1 uV per bit), each following its own specification and written WITHOUT Deri:

  dicom_implicit.dcm   12-lead ECG Waveform Storage, Implicit VR LE, MDC lead codes, uV sensitivity 1.0,
                       undefined-length sequences, rhythm + median multiplex groups, measurements + a statement (pydicom)
  dicom_explicit.dcm   the same in Explicit VR LE with SCPECG lead codes and mV sensitivity 0.0005 x correction 2.0
  dicom_deflated.dcm   2 s of the record as Deflated Explicit VR LE (must be refused by name)
  dicom_scpecg.dcm     the explicit file with its measurements coded in SCPECG (SCP-ECG 1.3 clause codes, RR instead of
                       the rate, a PP interval of 0, fiducial points in sample positions) as a Mortara ELI 250 cart writes them
  aecg.xml             HL7 aECG: rhythm series + derived representative beat, 12 leads, scale 1 uV, origin 0
  muse.xml             GE MUSE RestingECG: 8 leads (I, II, V1-V6), 0.5 uV/bit, base64 int16, measurements, statements
  edf.edf              EDF: 12 signals labelled "ECG I" ..., physical -32.768..32.767 mV, plus an EDF Annotations signal
  bdf.bdf              BDF (24-bit): 12 signals labelled "I" ..., uV, digital scaled by 4 (0.25 uV per bit)

The "median beat" stored in the DICOM/aECG/MUSE fixtures is the record's first 0.8 s (a stand-in with the right shape;
these files test reading, not beat averaging). Run from the repository root:  /usr/bin/python3 tools/formats/make_formats.py
(all fixtures), or with file names to write only those, e.g.  /usr/bin/python3 tools/formats/make_formats.py dicom_scpecg.dcm
"""
import base64
import os
import struct
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("DERI_SHARED", os.path.join(os.path.dirname(os.path.dirname(ROOT)), "shared"))
RECORD = os.path.join(SHARED, "data", "ptbxl", "records100", "00000", "00001_lr")
OUT = os.path.join(ROOT, "tests", "Deri.Tests", "Fixtures", "formats")

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
MDC = {"I": "2:1", "II": "2:2", "III": "2:61", "aVR": "2:62", "aVL": "2:63", "aVF": "2:64",
       "V1": "2:3", "V2": "2:4", "V3": "2:5", "V4": "2:6", "V5": "2:7", "V6": "2:8"}
SCP = {"I": "5.6.3-9-1", "II": "5.6.3-9-2", "V1": "5.6.3-9-3", "V2": "5.6.3-9-4", "V3": "5.6.3-9-5", "V4": "5.6.3-9-6",
       "V5": "5.6.3-9-7", "V6": "5.6.3-9-8", "III": "5.6.3-9-61", "aVR": "5.6.3-9-62", "aVL": "5.6.3-9-63", "aVF": "5.6.3-9-64"}
RATE = 100
MEDIAN = 80  # samples of the stand-in median beat

# The device measurements every fixture carries (ms, bpm, degrees) and its statements.
MEAS = {"rate": 63, "pr": 164, "qrs": 92, "qt": 398, "qtc": 406, "paxis": 48, "raxis": -3, "taxis": 40}
RR = 952  # ms, the SCPECG fixture's RR interval (60000 / 63 bpm, rounded)
STATEMENTS = ["Sinus rhythm", "Left axis deviation"]


def load():
    raw = np.fromfile(RECORD + ".dat", dtype="<i2").reshape(-1, 12)  # [1000, 12], 1 uV per unit, baseline 0
    assert raw.shape == (1000, 12)
    return raw


def code(value, scheme, meaning):
    c = Dataset()
    c.CodeValue = value
    c.CodingSchemeDesignator = scheme
    c.CodeMeaning = meaning
    return c


def undefined(ds):
    """Marks every sequence and item of ds as undefined-length (written with delimiters)."""
    for elem in ds:
        if elem.VR == "SQ":
            elem.is_undefined_length = True
            for item in elem.value:
                item.is_undefined_length_sequence_item = True
                undefined(item)


def multiplex(raw, label, codes, scheme, sens, units, corr):
    g = Dataset()
    g.MultiplexGroupTimeOffset = "0"
    g.WaveformOriginality = "ORIGINAL" if label == "RHYTHM" else "DERIVED"
    g.NumberOfWaveformChannels = raw.shape[1]
    g.NumberOfWaveformSamples = raw.shape[0]
    g.SamplingFrequency = str(RATE)
    g.MultiplexGroupLabel = label
    chans = []
    for k, lead in enumerate(LEADS):
        ch = Dataset()
        ch.WaveformChannelNumber = k + 1
        ch.ChannelLabel = lead
        ch.ChannelSourceSequence = Sequence([code(codes[lead], scheme, "Lead " + lead)])
        ch.ChannelSensitivity = sens
        ch.ChannelSensitivityUnitsSequence = Sequence([code(units, "UCUM", "microvolt" if units == "uV" else "millivolt")])
        ch.ChannelSensitivityCorrectionFactor = corr
        ch.ChannelBaseline = "0"
        ch.ChannelTimeSkew = "0"
        ch.WaveformBitsStored = 16
        ch.FilterLowFrequency = "0.05"
        ch.FilterHighFrequency = "150"
        chans.append(ch)
    g.ChannelDefinitionSequence = Sequence(chans)
    g.WaveformBitsAllocated = 16
    g.WaveformSampleInterpretation = "SS"
    g.WaveformData = raw.astype("<i2").tobytes()  # interleaved: sample-major, channel-minor
    return g


def annotations(scp=False):
    items = []
    def numeric(value, c, unit, group=None):
        a = Dataset()
        a.ReferencedWaveformChannels = [1, 0]
        if group is not None:
            a.AnnotationGroupNumber = group
        a.ConceptNameCodeSequence = Sequence([c])
        a.NumericValue = str(value)
        a.MeasurementUnitsCodeSequence = Sequence([unit])
        items.append(a)
    ms = code("ms", "UCUM", "millisecond")
    deg = code("deg", "UCUM", "degree")
    if scp:
        # As pydicom's waveform_ecg.dcm (a Mortara ELI 250 cart) codes them: statements first, then the global
        # measurements in annotation group 1 with SCPECG 1.3 concept names (the code value is the SCP-ECG clause and
        # item), then the fiducial points of the median beat (group 2) as sample positions, which carry no value.
        for s in STATEMENTS:
            a = Dataset()
            a.ReferencedWaveformChannels = [1, 0]
            a.AnnotationGroupNumber = 0
            a.UnformattedTextValue = s
            items.append(a)
        def scpecg(value, meaning):
            c = code(value, "SCPECG", meaning)
            c.CodingSchemeVersion = "1.3"
            return c
        numeric(RR, scpecg("5.10.2.1-3", "RR Interval"), ms, 1)
        numeric(0, scpecg("5.10.2.1-5", "PP Interval"), ms, 1)
        numeric(MEAS["pr"], scpecg("5.13.5-7", "PR Interval"), ms, 1)
        numeric(MEAS["qrs"], scpecg("5.13.5-9", "QRS Duration"), ms, 1)
        numeric(MEAS["qt"], scpecg("5.13.5-11", "QT Interval"), ms, 1)
        numeric(MEAS["qtc"], scpecg("5.10.2.5-5", "QTc Interval"), ms, 1)
        numeric(MEAS["paxis"], scpecg("5.10.3-11", "P Axis"), deg, 1)
        numeric(MEAS["raxis"], scpecg("5.10.3-13", "QRS Axis"), deg, 1)
        numeric(MEAS["taxis"], scpecg("5.10.3-15", "T Axis"), deg, 1)
        for value, meaning, at in [("5.10.3-1", "P Onset", 10), ("5.10.3-2", "P Offset", 20), ("5.10.3-3", "QRS Onset", 26),
                                   ("5.10.3-4", "QRS Offset", 35), ("5.10.3-5", "T Offset", 66)]:
            a = Dataset()
            a.ReferencedWaveformChannels = [1, 0]
            a.AnnotationGroupNumber = 2
            a.ConceptNameCodeSequence = Sequence([scpecg(value, meaning)])
            a.TemporalRangeType = "POINT"
            a.ReferencedSamplePositions = at
            items.append(a)
        return Sequence(items)
    # Concept names of TID 3713 "ECG Global Measurements" (PS3.16): MDC codes; axes from CID 3229.
    numeric(MEAS["rate"], code("2:16016", "MDC", "Ventricular Heart Rate"), code("/min", "UCUM", "per minute"))
    numeric(MEAS["pr"], code("2:15872", "MDC", "PR interval global"), ms)
    numeric(MEAS["qrs"], code("2:16156", "MDC", "QRS duration global"), ms)
    numeric(MEAS["qt"], code("2:16160", "MDC", "QT interval global"), ms)
    numeric(MEAS["qtc"], code("2:15876", "MDC", "QTc interval global"), ms)
    numeric(MEAS["paxis"], code("2:16128", "MDC", "P Axis"), deg)
    numeric(MEAS["raxis"], code("2:16132", "MDC", "QRS Axis"), deg)
    numeric(MEAS["taxis"], code("2:16136", "MDC", "T Axis"), deg)
    for s in STATEMENTS:
        a = Dataset()
        a.UnformattedTextValue = s
        items.append(a)
    return Sequence(items)


def dicom(raw, path, syntax, codes, scheme, sens, units, corr, undefined_lengths, scp_measurements=False):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.9.1.1"
    meta.MediaStorageSOPInstanceUID = "2.25.1234567890123456789"
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = "2.25.987654321"
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "ECG"
    ds.PatientID = "00001"
    ds.PatientSex = "F"
    ds.PatientAge = "056Y"
    ds.StudyDate = "19841109"
    ds.WaveformSequence = Sequence([
        multiplex(raw, "RHYTHM", codes, scheme, sens, units, corr),
        multiplex(raw[:MEDIAN], "MEDIAN", codes, scheme, sens, units, corr),
    ])
    ds.WaveformAnnotationSequence = annotations(scp_measurements)
    if undefined_lengths:
        undefined(ds)
    implicit = syntax == ImplicitVRLittleEndian
    ds.is_implicit_VR = implicit  # pydicom 2.3 API (Debian's python3-pydicom)
    ds.is_little_endian = True
    ds.save_as(path, write_like_original=False)


def digits(values):
    return " ".join(str(int(v)) for v in values)


def aecg(raw, path):
    def sequence_set(block, absolute):
        parts = ['<sequenceSet>',
                 '<component><sequence><code code="%s" codeSystem="2.16.840.1.113883.5.4"/>' % ("TIME_ABSOLUTE" if absolute else "TIME_RELATIVE"),
                 '<value xsi:type="%s">%s<increment value="0.01" unit="s"/></value></sequence></component>'
                 % ("GLIST_TS" if absolute else "GLIST_PQ", '<head value="19841109093000.000"/>' if absolute else '<head value="0" unit="s"/>')]
        for k, lead in enumerate(LEADS):
            parts.append('<component><sequence><code code="MDC_ECG_LEAD_%s" codeSystem="2.16.840.1.113883.6.24"/>'
                         '<value xsi:type="SLIST_PQ"><origin value="0" unit="uV"/><scale value="1" unit="uV"/>'
                         '<digits>%s</digits></value></sequence></component>' % (lead.upper(), digits(block[:, k])))
        parts.append('</sequenceSet>')
        return "\n".join(parts)
    ann = []
    for c, v, u in [("MDC_ECG_HEART_RATE", MEAS["rate"], "bpm"), ("MDC_ECG_TIME_PD_PR", MEAS["pr"], "ms"),
                    ("MDC_ECG_TIME_PD_QRS", MEAS["qrs"], "ms"), ("MDC_ECG_TIME_PD_QT", MEAS["qt"], "ms"),
                    ("MDC_ECG_TIME_PD_QTc", MEAS["qtc"], "ms"), ("MDC_ECG_ANGLE_P_FRONT", MEAS["paxis"], "deg"),
                    ("MDC_ECG_ANGLE_QRS_FRONT", MEAS["raxis"], "deg"), ("MDC_ECG_ANGLE_T_FRONT", MEAS["taxis"], "deg")]:
        ann.append('<component><annotation><code code="%s" codeSystem="2.16.840.1.113883.6.24"/>'
                   '<value xsi:type="PQ" value="%s" unit="%s"/></annotation></component>' % (c, v, u))
    for s in STATEMENTS:
        ann.append('<component><annotation><code code="MDC_ECG_INTERPRETATION_STATEMENT" codeSystem="2.16.840.1.113883.6.24"/>'
                   '<value xsi:type="ST">%s</value></annotation></component>' % s)
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<AnnotatedECG xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<id root="2.25.1234567890"/>
<code code="93000" codeSystem="2.16.840.1.113883.6.12"/>
<effectiveTime><low value="19841109093000"/><high value="19841109093010"/></effectiveTime>
<component><series>
<id root="2.25.1234567891"/>
<code code="RHYTHM" codeSystem="2.16.840.1.113883.5.4"/>
<effectiveTime><low value="19841109093000"/><high value="19841109093010"/></effectiveTime>
<component>
%s
</component>
<derivation><derivedSeries>
<code code="REPRESENTATIVE_BEAT" codeSystem="2.16.840.1.113883.5.4"/>
<component>
%s
</component>
</derivedSeries></derivation>
<subjectOf><annotationSet>
%s
</annotationSet></subjectOf>
</series></component>
</AnnotatedECG>
""" % (sequence_set(raw, True), sequence_set(raw[:MEDIAN], False), "\n".join(ann))
    with open(path, "w", encoding="utf-8") as f:
        f.write(xml)


def muse(raw, path):
    eight = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
    def waveform(kind, block):
        leads = []
        for lead in eight:
            data = (block[:, LEADS.index(lead)].astype(np.int32) * 2).astype("<i2").tobytes()  # 0.5 uV per bit
            b64 = base64.encodebytes(data).decode("ascii")  # MUSE breaks the base64 into lines
            leads.append("""<LeadData>
<LeadByteCountTotal>%d</LeadByteCountTotal>
<LeadTimeOffset>0</LeadTimeOffset>
<LeadSampleCountTotal>%d</LeadSampleCountTotal>
<LeadAmplitudeUnitsPerBit>0.5</LeadAmplitudeUnitsPerBit>
<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>
<LeadHighLimit>32767</LeadHighLimit>
<LeadLowLimit>-32768</LeadLowLimit>
<LeadID>%s</LeadID>
<LeadOffsetFirstSample>0</LeadOffsetFirstSample>
<FirstSampleBaseline>0</FirstSampleBaseline>
<LeadSampleSize>2</LeadSampleSize>
<LeadOff>FALSE</LeadOff>
<BaselineSway>FALSE</BaselineSway>
<WaveFormData>%s</WaveFormData>
</LeadData>""" % (len(data), block.shape[0], lead, b64))
        return """<Waveform>
<WaveformType>%s</WaveformType>
<WaveformStartTime>0</WaveformStartTime>
<NumberofLeads>8</NumberofLeads>
<SampleType>CONTINUOUS_SAMPLES</SampleType>
<SampleBase>%d</SampleBase>
<SampleExponent>0</SampleExponent>
<HighPassFilter>5</HighPassFilter>
<LowPassFilter>150</LowPassFilter>
<ACFilter>60</ACFilter>
%s
</Waveform>""" % (kind, RATE, "\n".join(leads))
    stmts = "\n".join("<DiagnosisStatement><StmtFlag>ENDSLINE</StmtFlag><StmtText>%s</StmtText></DiagnosisStatement>" % s for s in STATEMENTS)
    xml = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE RestingECG SYSTEM "restecg.dtd">
<RestingECG>
<MuseInfo><MuseVersion>9.0.9.18167</MuseVersion></MuseInfo>
<PatientDemographics><PatientID>00001</PatientID><PatientAge>56</PatientAge><AgeUnits>YEARS</AgeUnits><Gender>FEMALE</Gender></PatientDemographics>
<TestDemographics><DataType>RESTING</DataType><AcquisitionDate>11-09-1984</AcquisitionDate></TestDemographics>
<RestingECGMeasurements>
<VentricularRate>%d</VentricularRate>
<AtrialRate>%d</AtrialRate>
<PRInterval>%d</PRInterval>
<QRSDuration>%d</QRSDuration>
<QTInterval>%d</QTInterval>
<QTCorrected>%d</QTCorrected>
<PAxis>%d</PAxis>
<RAxis>%d</RAxis>
<TAxis>%d</TAxis>
</RestingECGMeasurements>
<Diagnosis><Modality>RESTING</Modality>
%s
</Diagnosis>
%s
%s
</RestingECG>
""" % (MEAS["rate"], MEAS["rate"], MEAS["pr"], MEAS["qrs"], MEAS["qt"], MEAS["qtc"], MEAS["paxis"], MEAS["raxis"], MEAS["taxis"],
       stmts, waveform("Median", raw[:MEDIAN]), waveform("Rhythm", raw))
    with open(path, "w", encoding="iso-8859-1") as f:
        f.write(xml)


def field(text, width):
    s = str(text)
    assert len(s) <= width, (s, width)
    return s.ljust(width).encode("ascii")


def edf(raw, path, bdf):
    """EDF (16-bit, mV, 'ECG I' labels, with an EDF+ annotations signal) or BDF (24-bit, uV, 0.25 uV per bit)."""
    records, per = 10, RATE  # 1-s data records
    labels = [("I" if bdf else "ECG " + l) for l in LEADS]
    if bdf:
        labels = LEADS[:]
        sig = [dict(label=l, dim="uV", pmin="-1000000", pmax="1000000", dmin=-4000000, dmax=4000000, n=per) for l in labels]
        data = raw.astype(np.int64) * 4
    else:
        sig = [dict(label="ECG " + l, dim="mV", pmin="-32.768", pmax="32.767", dmin=-32768, dmax=32767, n=per) for l in LEADS]
        sig.append(dict(label="EDF Annotations", dim="", pmin="-1", pmax="1", dmin=-32768, dmax=32767, n=30))
        data = raw.astype(np.int64)
    ns = len(sig)
    h = b""
    h += (b"\xffBIOSEMI" if bdf else field("0", 8))
    h += field("X F X 00001", 80)
    h += field("Startdate 09-NOV-1984 X X X", 80)
    h += field("09.11.84", 8) + field("09.30.00", 8)
    h += field(256 * (ns + 1), 8)
    h += field("24BIT" if bdf else "EDF+C", 44)
    h += field(records, 8) + field(1, 8) + field(ns, 4)
    for key, width in [("label", 16), ("transducer", 80), ("dim", 8), ("pmin", 8), ("pmax", 8), ("dmin", 8), ("dmax", 8),
                       ("prefilter", 80), ("n", 8), ("reserved", 32)]:
        for s in sig:
            v = {"transducer": "AgAgCl electrode", "prefilter": "HP:0.05Hz LP:150Hz", "reserved": ""}.get(key, s.get(key))
            h += field(v, width)
    assert len(h) == 256 * (ns + 1)
    body = bytearray()
    for r in range(records):
        for k in range(12):
            block = data[r * per:(r + 1) * per, k]
            if bdf:
                for v in block:
                    body += struct.pack("<i", int(v))[:3]
            else:
                body += block.astype("<i2").tobytes()
        if not bdf:
            tal = ("+%d\x14\x14\x00" % r).encode("ascii")
            body += tal.ljust(60, b"\x00")
    with open(path, "wb") as f:
        f.write(h + bytes(body))


def main():
    os.makedirs(OUT, exist_ok=True)
    raw = load()
    writers = {
        "dicom_implicit.dcm": lambda p: dicom(raw, p, ImplicitVRLittleEndian, MDC, "MDC", "1", "uV", "1", True),
        "dicom_explicit.dcm": lambda p: dicom(raw, p, ExplicitVRLittleEndian, SCP, "SCPECG", "0.0005", "mV", "2", False),
        # A real deflated file (pydicom compresses the dataset): the reader must refuse the transfer syntax by name.
        "dicom_deflated.dcm": lambda p: dicom(raw[:200], p, DeflatedExplicitVRLittleEndian, MDC, "MDC", "1", "uV", "1", False),
        "dicom_scpecg.dcm": lambda p: dicom(raw, p, ExplicitVRLittleEndian, SCP, "SCPECG", "0.0005", "mV", "2", False, True),
        "aecg.xml": lambda p: aecg(raw, p),
        "muse.xml": lambda p: muse(raw, p),
        "edf.edf": lambda p: edf(raw, p, False),
        "bdf.bdf": lambda p: edf(raw, p, True),
    }
    names = sys.argv[1:] or list(writers)
    unknown = [n for n in names if n not in writers]
    if unknown:
        print("unknown fixture(s): %s; known: %s" % (", ".join(unknown), ", ".join(writers)), file=sys.stderr)
        return 2
    for name in names:
        writers[name](os.path.join(OUT, name))
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    sys.exit(main())
