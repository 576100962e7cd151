// Where device tensors and fed weights live: the device, which one, and a label for errors and reports. Its own
// file because both the tensors' and the weights' modules name it.

export interface DeviceTarget {
  device: 'cpu' | 'cuda';
  deviceId?: number;
  label: string;
}
